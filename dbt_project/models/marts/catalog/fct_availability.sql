-- Availability history: one row each time a product's availability at a
-- branch changes (first listed, out of stock, back in stock), against its
-- previous observation however many days before. Incremental over the window
-- and each series' first row after it (a replaced day converges).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        meta={'day_window_column': 'event_date'},
        on_schema_change='fail',
        pre_hook=["{{ delete_window_and_follow_ups('event_date', 'previous_seen_date') }}"],
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

with_previous as (

    select
        window_prices.*,
        previous.price_date as previous_seen_date,
        previous.in_stock as previous_in_stock
    from window_prices
    left join lateral (
        select
            earlier.price_date,
            earlier.in_stock
        from {{ ref('fct_prices_daily') }} as earlier
        where
            earlier.store_key = window_prices.store_key
            and earlier.retailer_product_key = window_prices.retailer_product_key
            and earlier.price_date < window_prices.price_date
        order by earlier.price_date desc
        limit 1
    ) as previous on true

),

events as (

    select
        *,
        case
            when previous_seen_date is null then 'listed'
            when previous_in_stock and not in_stock then 'out_of_stock'
            when not previous_in_stock and in_stock then 'back_in_stock'
        end as event_type
    from with_previous

),

final as (

    select
        {{ surrogate_key(["to_char(price_date, 'YYYY-MM-DD')", 'store_key', 'retailer_product_key']) }}
            as availability_event_id,
        price_date as event_date,
        store_key,
        product_key,
        retailer_product_key,
        retailer,
        event_type,
        in_stock,
        previous_in_stock,
        previous_seen_date
    from events
    where event_type is not null

)

select * from final
