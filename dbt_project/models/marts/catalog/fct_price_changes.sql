-- One row per price or pack-size change of a product at a branch: the day it
-- was seen, against the previous observation of the same series (however
-- many days before), or, for a product re-listed under a new retailer key,
-- against the last observation of the product it replaced. Flags an outlier
-- jump (more than double, or under half) and shrinkflation (pack down, regular
-- price per unit up). Incremental over the window (append after a pre-hook delete of
-- the window and its follow-up rows, so a replaced day converges).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        meta={'day_window_column': 'change_date'},
        on_schema_change='fail',
        pre_hook=["{{ delete_window_and_follow_ups('change_date', 'previous_price_date') }}"],
        post_hook=["analyze {{ this }}"],
    )
}}

-- Older days are re-keyed after matching merges or splits products (ADR 0026):
-- depends_on: {{ ref('int_product_key_history') }}

with

-- The lateral lookups below read fct_prices_daily itself (not a CTE, which
-- Postgres would materialise without the index they need).
-- The window's rows, and each series' first row after the window (its
-- previous observation may have changed with the window; see the pre-hook).
window_prices as (

    select * from {{ ref('fct_prices_daily') }}
    where {{ in_day_window('price_date') }}

    union all

    ({{ first_prices_after_window(ref('fct_prices_daily')) }})

),

tracked_products as (

    select * from {{ ref('int_retailer_products_tracked') }}

),

-- Retailer products first seen in the window that replace one delisted within
-- the 14 days before: same retailer, brand and name words, a bigger pack of the
-- same unit. Retailers often re-list a shrunk pack under a new SKU (and a new
-- GTIN), which a comparison within one series never sees.
relisted_products as (

    select distinct on (new_product.retailer_product_key)
        new_product.retailer_product_key,
        old_product.retailer_product_key as predecessor_key
    from tracked_products as new_product
    inner join tracked_products as old_product
        on
            new_product.retailer = old_product.retailer
            and {{ brand_name_key('new_product.name_size_key') }}
            = {{ brand_name_key('old_product.name_size_key') }}
            and new_product.package_unit = old_product.package_unit
            and new_product.package_quantity < old_product.package_quantity
            and new_product.first_seen_date > old_product.last_seen_date
            and new_product.first_seen_date <= old_product.last_seen_date + 14
    where {{ in_day_window('new_product.first_seen_date') }}
    order by new_product.retailer_product_key asc, old_product.last_seen_date desc, old_product.retailer_product_key asc

),

-- The series each window row is compared with: its own, or, for a re-listed
-- product's first observation at a branch, the product it replaced.
compared_series as (

    select
        window_prices.*,
        window_prices.retailer_product_key as series_key,
        cast(null as text) as previous_retailer_product_key
    from window_prices

    union all

    select
        window_prices.*,
        relisted_products.predecessor_key as series_key,
        relisted_products.predecessor_key as previous_retailer_product_key
    from window_prices
    inner join relisted_products
        on window_prices.retailer_product_key = relisted_products.retailer_product_key
    where not exists (
        select 1
        from {{ ref('fct_prices_daily') }} as same_series
        where
            same_series.store_key = window_prices.store_key
            and same_series.retailer_product_key = window_prices.retailer_product_key
            and same_series.price_date < window_prices.price_date
    )

),

-- The previous observation of the compared series: an index probe per row on
-- (store_key, retailer_product_key, price_date), so cost follows new rows.
with_previous as (

    select
        compared_series.*,
        previous.price_date as previous_price_date,
        previous.price as previous_price,
        previous.package_quantity as previous_package_quantity,
        previous.unit_price as previous_unit_price,
        previous.regular_price as previous_regular_price
    from compared_series
    cross join lateral (
        select
            earlier.price_date,
            earlier.price,
            earlier.package_quantity,
            earlier.unit_price,
            case when earlier.is_promotion then earlier.was_price else earlier.price end as regular_price
        from {{ ref('fct_prices_daily') }} as earlier
        where
            earlier.store_key = compared_series.store_key
            and earlier.retailer_product_key = compared_series.series_key
            and earlier.price_date < compared_series.price_date
        order by earlier.price_date desc
        limit 1
    ) as previous

),

changes as (

    select *
    from with_previous
    where
        price <> previous_price
        or package_quantity is distinct from previous_package_quantity

),

final as (

    select
        {{ surrogate_key(["to_char(price_date, 'YYYY-MM-DD')", 'store_key', 'retailer_product_key']) }}
            as price_change_id,
        price_date as change_date,
        store_key,
        product_key,
        retailer_product_key,
        retailer,
        previous_retailer_product_key,
        previous_price_date,
        previous_price,
        price,
        cast(price - previous_price as numeric(12, 2)) as price_change,
        cast(
            case
                when previous_price > 0 then round((price - previous_price) / previous_price, 4)
            end as numeric(10, 4)
        ) as price_change_ratio,
        previous_package_quantity,
        package_quantity,
        previous_unit_price,
        unit_price,
        case
            when price > previous_price then 'price_up'
            when price < previous_price then 'price_down'
            else 'pack_size_only'
        end as change_type,
        coalesce(price > 2 * previous_price or price < 0.5 * previous_price, false) as is_outlier_jump,
        -- Shrinkflation: a smaller pack whose regular (unpromoted) price per unit went up. The shelf
        -- price alone misses it: regular prices drift a few % a day and a promotion can start on the
        -- day a pack shrinks, so "price not down" held for about half the real events.
        coalesce(
            package_quantity < previous_package_quantity
            and previous_package_quantity > 0
            and package_quantity > 0
            and (case when is_promotion then was_price else price end) / package_quantity
            > previous_regular_price / previous_package_quantity,
            false
        ) as is_shrinkflation
    from changes

)

select * from final
