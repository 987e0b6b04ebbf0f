-- One row per (price_date, store_key, retailer_product_key): the shelf price
-- observed that day by a succeeded crawl run, with its canonical product_key,
-- a comparable unit price and per-row quality flags. Incremental over the
-- partition's day window (vars min_date/max_date): the pre-hook deletes those
-- days, the model appends them again (one transaction).
--
-- The post-hooks (outside the transaction, after a full refresh has dropped
-- the old table) add the series index the other facts probe per row, covering
-- the columns they read so the probe never visits the table, and vacuum, which
-- marks the new pages all-visible so those probes stay index-only (ADR 0008).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        meta={'day_window_column': 'price_date'},
        on_schema_change='fail',
        pre_hook=["{{ delete_day_window('price_date') }}"],
        post_hook=[
            {
                'sql': 'create index if not exists {{ this.identifier }}_series_idx on {{ this }}'
                ~ ' (store_key, retailer_product_key, price_date)'
                ~ ' include (price, package_quantity, unit_price, in_stock)',
                'transaction': false,
            },
            {'sql': 'vacuum (analyze) {{ this }}', 'transaction': false},
        ],
    )
}}

-- Older days are re-keyed after matching merges or splits products (ADR 0026):
-- depends_on: {{ ref('int_product_key_history') }}

with

observations as (

    select * from {{ ref('int_price_observations_keyed') }}
    where {{ in_day_window('scrape_date') }}

),

retailer_products as (

    select * from {{ ref('int_retailer_products_matched') }}

),

-- The same retailer product's median price across its stores that day.
daily_medians as (

    select
        retailer_product_key,
        scrape_date,
        percentile_cont(0.5) within group (order by price) as median_store_price
    from observations
    group by retailer_product_key, scrape_date

),

final as (

    select
        {{ surrogate_key([
            "to_char(observations.scrape_date, 'YYYY-MM-DD')",
            'observations.store_key',
            'observations.retailer_product_key',
        ]) }} as price_id,
        observations.scrape_date as price_date,
        observations.store_key,
        retailer_products.product_key,
        observations.retailer_product_key,
        observations.retailer,
        observations.price,
        observations.was_price,
        {{ is_promotion('observations.was_price', 'observations.price') }} as is_promotion,
        observations.currency,
        observations.comparable_unit_price as unit_price,
        observations.package_unit,
        observations.package_quantity,
        observations.in_stock,
        observations.has_unit_mismatch,
        -- More than double, or under half, the same product's median across stores that day.
        coalesce(
            observations.price > 2 * daily_medians.median_store_price
            or observations.price < 0.5 * daily_medians.median_store_price,
            false
        ) as is_price_outlier,
        observations.source,
        observations.run_id,
        observations.fetched_at
    from observations
    inner join retailer_products
        on observations.retailer_product_key = retailer_products.retailer_product_key
    inner join daily_medians
        on
            observations.retailer_product_key = daily_medians.retailer_product_key
            and observations.scrape_date = daily_medians.scrape_date

)

select * from final
