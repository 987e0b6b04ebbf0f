-- Coverage per branch per day: how much of the retailer's catalogue seen that
-- day (across all its branches) this branch listed, and how much was in
-- stock. A low ratio flags a partial crawl or a thin store. Incremental.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        meta={'day_window_column': 'coverage_date'},
        on_schema_change='fail',
        pre_hook=["{{ delete_day_window('coverage_date') }}"],
    )
}}

with

prices as (

    select * from {{ ref('fct_prices_daily') }}
    where {{ in_day_window('price_date') }}

),

per_store as (

    select
        price_date,
        store_key,
        retailer,
        count(*) as products_listed,
        count(*) filter (where in_stock) as products_in_stock,
        count(*) filter (where has_unit_mismatch or is_price_outlier) as rows_flagged
    from prices
    group by price_date, store_key, retailer

),

per_retailer as (

    select
        price_date,
        retailer,
        count(distinct retailer_product_key) as retailer_products_seen
    from prices
    group by price_date, retailer

),

final as (

    select
        {{ surrogate_key(["to_char(per_store.price_date, 'YYYY-MM-DD')", 'per_store.store_key']) }}
            as store_coverage_id,
        per_store.price_date as coverage_date,
        per_store.store_key,
        per_store.retailer,
        cast(per_store.products_listed as integer) as products_listed,
        cast(per_store.products_in_stock as integer) as products_in_stock,
        cast(per_retailer.retailer_products_seen as integer) as retailer_products_seen,
        cast(per_store.rows_flagged as integer) as rows_flagged,
        cast(
            round(cast(per_store.products_listed as numeric) / per_retailer.retailer_products_seen, 4)
            as numeric(10, 4)
        ) as coverage_ratio,
        cast(
            round(cast(per_store.products_in_stock as numeric) / per_store.products_listed, 4) as numeric(10, 4)
        ) as in_stock_ratio
    from per_store
    inner join per_retailer
        on
            per_store.price_date = per_retailer.price_date
            and per_store.retailer = per_retailer.retailer

)

select * from final
