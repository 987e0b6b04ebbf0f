-- The cost of the standard basket (seed standard_basket) per region and week:
-- each line bought at a store's lowest in-stock unit price in its category
-- (averaged over the days of the week), the cheapest single store that
-- prices every line; and, once the optimizer's batch writes
-- serving.basket_splits, its standard weekly basket's optimal split.
with

basket as (

    select * from {{ ref('standard_basket') }}

),

category_prices as (

    select * from {{ ref('int_store_category_prices_daily') }}

),

stores as (

    select * from {{ ref('dim_store') }}

),

basket_splits as (

    select * from {{ source('serving', 'basket_splits') }}

),

store_week_lines as (

    select
        cast(date_trunc('week', category_prices.price_date) as date) as week_start,
        category_prices.store_key,
        basket.basket_line,
        basket.quantity * avg(category_prices.lowest_unit_price) as line_cost
    from category_prices
    inner join basket
        on
            category_prices.category_path = basket.category_path
            and category_prices.package_unit = basket.package_unit
    group by
        cast(date_trunc('week', category_prices.price_date) as date),
        category_prices.store_key,
        basket.basket_line,
        basket.quantity

),

store_week_totals as (

    select
        week_start,
        store_key,
        round(sum(line_cost), 2) as basket_cost
    from store_week_lines
    group by week_start, store_key
    -- A store prices the basket only when it prices every line.
    having count(*) = (select count(*) from basket)

),

with_region as (

    select
        store_week_totals.*,
        stores.region,
        row_number() over (
            partition by stores.region, store_week_totals.week_start
            order by store_week_totals.basket_cost asc, store_week_totals.store_key asc
        ) as cost_rank
    from store_week_totals
    inner join stores
        on store_week_totals.store_key = stores.store_key

),

per_region_week as (

    select
        region,
        week_start,
        count(*) as stores_priced,
        min(basket_cost) as cheapest_single_store_cost,
        percentile_cont(0.5) within group (order by basket_cost) as median_store_cost,
        max(case when cost_rank = 1 then store_key end) as cheapest_store_key
    from with_region
    group by region, week_start

),

-- The optimizer batch's standard 'weekly' basket per region (basket_kind
-- 'standard'): its optimal multi-store split and its best single store,
-- averaged over the days of the week it was solved for.
optimal_splits as (

    select
        region,
        cast(date_trunc('week', price_date) as date) as week_start,
        avg(split_total) as optimal_split_total,
        avg(best_single_store_total) as optimizer_single_store_total
    from basket_splits
    where basket_kind = 'standard' and basket_id like 'standard-%-weekly' and status = 'optimal'
    group by region, cast(date_trunc('week', price_date) as date)

),

final as (

    select
        {{ surrogate_key(['per_region_week.region', "to_char(per_region_week.week_start, 'YYYY-MM-DD')"]) }}
            as basket_index_id,
        per_region_week.region,
        per_region_week.week_start,
        cast(per_region_week.stores_priced as integer) as stores_priced,
        per_region_week.cheapest_store_key,
        cast(per_region_week.cheapest_single_store_cost as numeric(12, 2)) as cheapest_single_store_cost,
        cast(round(cast(per_region_week.median_store_cost as numeric), 2) as numeric(12, 2)) as median_store_cost,
        cast(optimal_splits.optimal_split_total as numeric(12, 2)) as optimal_split_total,
        cast(optimal_splits.optimizer_single_store_total as numeric(12, 2)) as optimizer_single_store_total
    from per_region_week
    left join optimal_splits
        on
            per_region_week.region = optimal_splits.region
            and per_region_week.week_start = optimal_splits.week_start

)

select * from final
