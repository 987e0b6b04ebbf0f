-- Sellable: demand per shopper region, week and category (items added to lists).
-- Only consenting shoppers; a cell with fewer than k distinct shoppers is suppressed.
with

events as (

    select * from {{ ref('int_trends__consented_events') }}

),

products as (

    select * from {{ ref('stg_catalog_ref__products') }}

),

items_added as (

    select
        events.shopper_region,
        events.week_start,
        coalesce(products.category, 'Uncategorised') as category,
        events.anonymous_user_id,
        events.list_id,
        events.quantity
    from events
    left join products
        on events.product_key = products.product_key
    where events.event_type = 'item_added'

),

aggregated as (

    select
        shopper_region,
        week_start,
        category,
        count(distinct anonymous_user_id) as shoppers,
        count(distinct list_id) as lists,
        count(*) as items_added,
        sum(quantity) as units_added
    from items_added
    group by shopper_region, week_start, category

),

final as (

    select
        shopper_region,
        week_start,
        category,
        shoppers,
        lists,
        items_added,
        units_added
    from aggregated
    where shoppers >= {{ var('k_threshold') }}

)

select * from final
