-- One row per retailer product and day it was seen: that day's latest
-- attributes and its median shelf price across branches. Incremental by day
-- (the window's days deleted and appended again, like the facts), so replacing a raw
-- partition and rebuilding its day replaces exactly that day's rows here: the
-- product-level history that int_retailer_products_tracked is re-derived from.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=["{{ delete_day_window('scrape_date') }}"],
        indexes=[
            {'columns': ['retailer_product_key', 'scrape_date']},
            {'columns': ['scrape_date']},
        ],
    )
}}

with

observations as (

    select * from {{ ref('int_price_observations_keyed') }}
    where {{ in_day_window('scrape_date') }}

),

latest_per_day as (

    select distinct on (retailer_product_key, scrape_date)
        retailer_product_key,
        scrape_date,
        retailer,
        retailer_product_id,
        product_name,
        brand,
        category_path,
        gtin,
        package_size_text,
        package_quantity,
        package_unit,
        pack_count,
        fetched_at
    -- store_id breaks ties so the pick is deterministic.
    from observations
    order by retailer_product_key asc, scrape_date asc, fetched_at desc, store_id asc

),

-- Median regular shelf price across branches that day: matching compares
-- listings of one product across retailers by it, and a promotion at two of
-- three branches would pull a plain median far from the product's price level.
-- Promotional prices (macro is_promotion) are left out; when every branch had
-- one, the median was-price (the regular price a real promotion names) stands
-- in.
daily_prices as (

    select
        retailer_product_key,
        scrape_date,
        cast(
            coalesce(
                percentile_cont(0.5) within group (order by price) filter (
                    where not {{ is_promotion('was_price', 'price') }}
                ),
                percentile_cont(0.5) within group (order by was_price)
            ) as numeric(12, 2)
        ) as median_price
    from observations
    group by retailer_product_key, scrape_date

),

final as (

    select
        latest_per_day.*,
        daily_prices.median_price
    from latest_per_day
    inner join daily_prices
        on
            latest_per_day.retailer_product_key = daily_prices.retailer_product_key
            and latest_per_day.scrape_date = daily_prices.scrape_date

)

select * from final
