-- One row per price or pack-size change of a product at a branch: the day it
-- was seen, against the previous observation of the same series (however
-- many days before). Flags an outlier jump (more than double, or under half)
-- and shrinkflation (pack down, price not down). Incremental over the window.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='change_date',
        meta={'day_window_column': 'change_date'},
        incremental_predicates=window_delete_predicate('change_date'),
        on_schema_change='fail',
        indexes=[{'columns': ['change_date']}],
    )
}}

with

-- The lateral lookups below read fct_prices_daily itself (not a CTE, which
-- Postgres would materialise without the index they need).
window_prices as (

    select * from {{ ref('fct_prices_daily') }}
    where {{ in_day_window('price_date') }}

),

-- The previous observation of the series: an index probe per row on
-- (store_key, retailer_product_key, price_date), so cost follows new rows.
with_previous as (

    select
        window_prices.*,
        previous.price_date as previous_price_date,
        previous.price as previous_price,
        previous.package_quantity as previous_package_quantity,
        previous.unit_price as previous_unit_price
    from window_prices
    cross join lateral (
        select
            earlier.price_date,
            earlier.price,
            earlier.package_quantity,
            earlier.unit_price
        from {{ ref('fct_prices_daily') }} as earlier
        where
            earlier.store_key = window_prices.store_key
            and earlier.retailer_product_key = window_prices.retailer_product_key
            and earlier.price_date < window_prices.price_date
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
        coalesce(package_quantity < previous_package_quantity and price >= previous_price, false)
            as is_shrinkflation
    from changes

)

select * from final
