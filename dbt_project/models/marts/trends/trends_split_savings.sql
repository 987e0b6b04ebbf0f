-- Sellable: what splitting a list across stores saves, per shopper region and week, from the
-- optimizer batch (raw.optimizer_batch_results). Each consented list counts once: its latest
-- optimal split in the shopper's own region (shoppers in 'other'/'unknown' regions have no
-- region-matched split and are left out). Cells under k distinct shoppers are suppressed.
with

items as (

    select * from {{ ref('int_trends__basket_items') }}

),

splits as (

    select * from {{ ref('stg_app__optimizer_batch_results') }}

),

consented_lists as (

    select distinct
        anonymous_user_id,
        list_id,
        shopper_region,
        week_start
    from items

),

latest_splits as (

    select distinct on (anonymous_user_id, list_id, store_region)
        anonymous_user_id,
        list_id,
        store_region,
        stores_used,
        split_total,
        best_single_store_total,
        saving
    from splits
    where status = 'optimal' and anonymous_user_id is not null
    order by anonymous_user_id asc, list_id asc, store_region asc, price_date desc

),

list_savings as (

    select
        consented_lists.anonymous_user_id,
        consented_lists.list_id,
        consented_lists.shopper_region,
        consented_lists.week_start,
        latest_splits.stores_used,
        latest_splits.split_total,
        latest_splits.best_single_store_total,
        latest_splits.saving
    from consented_lists
    inner join latest_splits
        on
            consented_lists.anonymous_user_id = latest_splits.anonymous_user_id
            and consented_lists.list_id = latest_splits.list_id
            and consented_lists.shopper_region = latest_splits.store_region

),

aggregated as (

    select
        shopper_region,
        week_start,
        count(distinct anonymous_user_id) as shoppers,
        count(*) as lists,
        round(avg(stores_used), 2) as avg_stores_used,
        round(avg(split_total), 2) as avg_split_total,
        round(avg(best_single_store_total), 2) as avg_best_single_store_total,
        round(avg(saving), 2) as avg_saving,
        round(avg(case when saving > 0 then 1.0 else 0.0 end), 4) as share_of_lists_saving
    from list_savings
    group by shopper_region, week_start

),

final as (

    select * from aggregated
    where shoppers >= {{ var('k_threshold') }}

)

select * from final
