-- One row per promoted price (a was-price above the shelf price) per day and
-- branch, checked against the EU Omnibus rule: an announced reduction must
-- refer to the lowest price of the prior 30 days. is_genuine_discount is
-- false when the was-price is above that lowest price (an inflated
-- reference), null without any prior price. is_fake_promotion is true when the
-- was-price is more than 10% above the highest unpromoted shelf price of the
-- prior 30 days: a reference price the branch never charged (null without an
-- unpromoted prior day). On a series' first day both are null: there is no
-- history to judge the was-price against, and other branches' prices differ
-- by their own price level. Incremental over the window and
-- the 30 days after it, whose prior-30-day low the window's prices feed (so a
-- replaced day converges; a build of the latest day has no later rows).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        meta={'day_window_column': 'promotion_date'},
        on_schema_change='fail',
        pre_hook=["{{ delete_day_window('promotion_date', lead_days=30) }}"],
        post_hook=["analyze {{ this }}"],
    )
}}

-- Older days are re-keyed after matching merges or splits products (ADR 0026):
-- depends_on: {{ ref('int_product_key_history') }}

with

-- The lateral lookup below reads fct_prices_daily itself (not a CTE, which
-- Postgres would materialise without the index it needs).
window_promotions as (

    select * from {{ ref('fct_prices_daily') }}
    where {{ in_day_window('price_date', lead_days=30) }} and is_promotion

),

-- Index range probe per promoted row over the prior 30 days of its series.
with_prior_low as (

    select
        window_promotions.*,
        prior_prices.lowest_price_prior_30d,
        prior_prices.highest_regular_price_prior_30d,
        prior_prices.prior_days_observed
    from window_promotions
    cross join lateral (
        select
            min(earlier.price) as lowest_price_prior_30d,
            max(earlier.price) filter (where not earlier.is_promotion) as highest_regular_price_prior_30d,
            count(*) as prior_days_observed
        from {{ ref('fct_prices_daily') }} as earlier
        where
            earlier.store_key = window_promotions.store_key
            and earlier.retailer_product_key = window_promotions.retailer_product_key
            and earlier.price_date >= window_promotions.price_date - 30
            and earlier.price_date < window_promotions.price_date
    ) as prior_prices

),

final as (

    select
        price_id as promotion_id,
        price_date as promotion_date,
        store_key,
        product_key,
        retailer_product_key,
        retailer,
        price,
        was_price,
        cast(round(1 - price / was_price, 4) as numeric(10, 4)) as claimed_discount_ratio,
        cast(lowest_price_prior_30d as numeric(12, 2)) as lowest_price_prior_30d,
        cast(prior_days_observed as integer) as prior_days_observed,
        cast(
            case
                when lowest_price_prior_30d > 0 then round(1 - price / lowest_price_prior_30d, 4)
            end as numeric(10, 4)
        ) as discount_vs_prior_low_ratio,
        case
            when lowest_price_prior_30d is not null then was_price <= lowest_price_prior_30d
        end as is_genuine_discount,
        cast(highest_regular_price_prior_30d as numeric(12, 2)) as highest_regular_price_prior_30d,
        -- 10% tolerance: regular prices drift day to day, so a genuine was-price (today's regular
        -- price) can sit a little above every earlier one; an invented one sits well above.
        case
            when highest_regular_price_prior_30d is not null
                then was_price > 1.10 * highest_regular_price_prior_30d
        end as is_fake_promotion
    from with_prior_low

)

select * from final
