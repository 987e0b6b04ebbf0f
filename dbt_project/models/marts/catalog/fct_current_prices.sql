-- Current prices, the rule written once (issue 14): one row per branch and
-- retailer product with its latest observation in fct_prices_daily, kept only
-- when that latest observation is in stock with a price, and only when it is
-- at most var('current_price_max_age_days') days older than the catalog's
-- newest price day. An out-of-stock latest observation is not current: an
-- older in-stock price is never used instead. A product a branch stopped
-- listing drops out once its last observation is older than the window.
--
-- Read by the optimizer (HTTP, CLI, Dagster job, batch), by catalog_ref's
-- published current prices and by the sample basket split. Only the window's
-- days are read: the day-first primary key of fct_prices_daily makes that a
-- range scan, so the build cost does not grow with history.
{{
    config(
        materialized='table',
        post_hook=[
            'create index if not exists {{ this.identifier }}_product_idx on {{ this }} (product_key)',
        ],
    )
}}

with

newest_day as (

    select max(price_date) as price_date
    from {{ ref('fct_prices_daily') }}

),

recent_prices as (

    select prices.*
    from {{ ref('fct_prices_daily') }} as prices
    inner join newest_day
        on
            prices.price_date
            > newest_day.price_date - {{ var('current_price_max_age_days', 7) }}

),

latest_observation as (

    select distinct on (store_key, retailer_product_key) *
    from recent_prices
    order by store_key asc, retailer_product_key asc, price_date desc, fetched_at desc

),

current_listings as (

    -- The product a listing is today comes from the current matching, not from the
    -- day's fact row: an older day keeps the key it was built with, and a later
    -- build may have merged that product into another (sticky keys, ADR 0014).
    select
        latest_observation.*,
        retailer_products.product_key as current_product_key
    from latest_observation
    inner join {{ ref('dim_retailer_product') }} as retailer_products
        on latest_observation.retailer_product_key = retailer_products.retailer_product_key
    where latest_observation.in_stock and latest_observation.price is not null

),

final as (

    select
        price_id,
        store_key,
        retailer_product_key,
        current_product_key as product_key,
        retailer,
        price_date,
        price,
        was_price,
        is_promotion,
        currency,
        unit_price,
        package_unit,
        package_quantity,
        fetched_at,
        -- Readers at the canonical grain (one price per branch x product) take
        -- the cheapest listing should a branch list one product twice.
        row_number() over (
            partition by store_key, current_product_key
            order by price asc, retailer_product_key asc
        ) = 1 as is_cheapest_listing
    from current_listings

)

select * from final
