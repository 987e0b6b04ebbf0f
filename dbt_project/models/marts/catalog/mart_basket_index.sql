-- The cost of the standard basket (seed standard_basket) per region and week:
-- each line bought at a store's lowest in-stock unit price in its category
-- (averaged over the days of the week). Per region and week: the cheapest
-- single store that prices every line, the median store, what picking the
-- cheapest saves, and the optimizer batch's optimal split of the same seed
-- basket (serving.basket_splits, one row per region and day) with its stores.
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

-- The optimizer batch's standard basket per region (basket_kind 'standard',
-- basket_id 'standard:<region>', one row per region and solved day): its
-- optimal multi-store split, averaged over the days of the week it was solved.
solved_splits as (

    select
        region,
        price_date,
        cast(date_trunc('week', price_date) as date) as week_start,
        split_total,
        cast(result ->> 'items_total' as numeric) as split_items_total,
        best_single_store_total,
        result -> 'stores' as split_stores,
        row_number() over (
            partition by region, cast(date_trunc('week', price_date) as date)
            order by price_date desc
        ) as recency_rank
    from basket_splits
    where basket_kind = 'standard' and status = 'optimal' and region is not null

),

-- The stores of the week's latest solved split, sorted so the list is stable.
latest_split_stores as (

    select
        solved_splits.region,
        solved_splits.week_start,
        string_agg(split_store.value ->> 'store_key', ',' order by split_store.value ->> 'store_key')
            as optimal_split_store_keys,
        count(*) as optimal_split_stores_used
    from solved_splits
    cross join lateral jsonb_array_elements(solved_splits.split_stores) as split_store (value)
    where solved_splits.recency_rank = 1
    group by solved_splits.region, solved_splits.week_start

),

optimal_splits as (

    select
        region,
        week_start,
        count(*) as optimal_split_days,
        avg(split_total) as optimal_split_total,
        avg(split_items_total) as optimal_split_items_total,
        avg(best_single_store_total) as optimizer_single_store_total
    from solved_splits
    group by region, week_start

),

joined as (

    select
        per_region_week.region,
        per_region_week.week_start,
        per_region_week.stores_priced,
        per_region_week.cheapest_store_key,
        per_region_week.cheapest_single_store_cost,
        round(cast(per_region_week.median_store_cost as numeric), 2) as median_store_cost,
        optimal_splits.optimal_split_days,
        round(optimal_splits.optimal_split_total, 2) as optimal_split_total,
        round(optimal_splits.optimal_split_items_total, 2) as optimal_split_items_total,
        round(optimal_splits.optimizer_single_store_total, 2) as optimizer_single_store_total,
        latest_split_stores.optimal_split_store_keys,
        latest_split_stores.optimal_split_stores_used
    from per_region_week
    left join optimal_splits
        on
            per_region_week.region = optimal_splits.region
            and per_region_week.week_start = optimal_splits.week_start
    left join latest_split_stores
        on
            per_region_week.region = latest_split_stores.region
            and per_region_week.week_start = latest_split_stores.week_start

),

final as (

    select
        {{ surrogate_key(['region', "to_char(week_start, 'YYYY-MM-DD')"]) }} as basket_index_id,
        region,
        week_start,
        cast(stores_priced as integer) as stores_priced,
        cheapest_store_key,
        cast(cheapest_single_store_cost as numeric(12, 2)) as cheapest_single_store_cost,
        cast(median_store_cost as numeric(12, 2)) as median_store_cost,
        -- Picking the cheapest store instead of a typical (median) one.
        cast(median_store_cost - cheapest_single_store_cost as numeric(12, 2)) as saving_cheapest_vs_median,
        cast(
            round(100 * (median_store_cost - cheapest_single_store_cost) / nullif(median_store_cost, 0), 1)
            as numeric(5, 1)
        ) as saving_cheapest_vs_median_pct,
        cast(optimal_split_total as numeric(12, 2)) as optimal_split_total,
        cast(optimal_split_items_total as numeric(12, 2)) as optimal_split_items_total,
        cast(optimizer_single_store_total as numeric(12, 2)) as optimizer_single_store_total,
        -- Splitting the optimizer's basket across stores instead of its best single store
        -- (both priced by the optimizer on the same products and packs).
        cast(optimizer_single_store_total - optimal_split_total as numeric(12, 2)) as saving_split_vs_single_store,
        cast(
            round(
                100 * (optimizer_single_store_total - optimal_split_total)
                / nullif(optimizer_single_store_total, 0),
                1
            )
            as numeric(5, 1)
        ) as saving_split_vs_single_store_pct,
        optimal_split_store_keys,
        cast(optimal_split_stores_used as integer) as optimal_split_stores_used,
        cast(optimal_split_days as integer) as optimal_split_days
    from joined

)

select * from final
