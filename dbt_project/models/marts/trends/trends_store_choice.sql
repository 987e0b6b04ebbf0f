-- Sellable: which store shoppers' lists point to, per shopper region and week. A list's store
-- is the one in the shopper's region (any region if theirs has none) that stocks most of the
-- list, then at the lowest current total: the store a single-store optimizer request picks.
-- Cells under k distinct shoppers are suppressed.
with

items as (

    select * from {{ ref('int_trends__basket_items') }}

),

events as (

    select * from {{ ref('int_trends__consented_events') }}

),

stores as (

    select * from {{ ref('stg_catalog_ref__stores') }}

),

prices as (

    select * from {{ ref('stg_catalog_ref__current_prices') }}

),

requested_lists as (

    select distinct
        anonymous_user_id,
        list_id
    from events
    where event_type = 'optimizer_request'

),

regions_with_stores as (

    select distinct region
    from stores

),

candidate_items as (

    select
        items.anonymous_user_id,
        items.list_id,
        items.shopper_region,
        items.week_start,
        items.product_key,
        items.quantity,
        stores.store_key
    from items
    inner join requested_lists
        on
            items.anonymous_user_id = requested_lists.anonymous_user_id
            and items.list_id = requested_lists.list_id
    left join regions_with_stores
        on items.shopper_region = regions_with_stores.region
    inner join stores
        on stores.region = coalesce(regions_with_stores.region, stores.region)

),

store_totals as (

    select
        candidate_items.anonymous_user_id,
        candidate_items.list_id,
        candidate_items.shopper_region,
        candidate_items.week_start,
        candidate_items.store_key,
        count(prices.price) as items_stocked,
        sum(candidate_items.quantity * prices.price) as store_total
    from candidate_items
    left join prices
        on
            candidate_items.store_key = prices.store_key
            and candidate_items.product_key = prices.product_key
    group by
        candidate_items.anonymous_user_id,
        candidate_items.list_id,
        candidate_items.shopper_region,
        candidate_items.week_start,
        candidate_items.store_key

),

chosen as (

    select distinct on (anonymous_user_id, list_id)
        anonymous_user_id,
        list_id,
        shopper_region,
        week_start,
        store_key
    from store_totals
    where items_stocked > 0
    order by anonymous_user_id asc, list_id asc, items_stocked desc, store_total asc, store_key asc

),

aggregated as (

    select
        chosen.shopper_region,
        chosen.week_start,
        chosen.store_key,
        count(distinct chosen.anonymous_user_id) as shoppers,
        count(*) as lists
    from chosen
    group by chosen.shopper_region, chosen.week_start, chosen.store_key

),

final as (

    select
        aggregated.shopper_region,
        aggregated.week_start,
        aggregated.store_key,
        stores.retailer,
        stores.store_name,
        stores.region as store_region,
        aggregated.shoppers,
        aggregated.lists
    from aggregated
    inner join stores
        on aggregated.store_key = stores.store_key
    where aggregated.shoppers >= {{ var('k_threshold') }}

)

select * from final
