-- One fact for every price seen, scraped or crowd-sourced, with provenance
-- (source, proof) and a trust score: scraped shelf prices start at 0.95,
-- crowd prices at 0.80 with a proof and 0.60 without; each crowd report that
-- the price is wrong (same day, store and product) takes 0.25 off, down to 0.
-- Incremental over the window.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        meta={'day_window_column': 'observed_date'},
        on_schema_change='fail',
        pre_hook=["{{ delete_day_window('observed_date') }}"],
        post_hook=["analyze {{ this }}"],
    )
}}

-- Older days are re-keyed after matching merges or splits products (ADR 0026):
-- depends_on: {{ ref('int_product_key_history') }}

with

scraped as (

    select * from {{ ref('fct_prices_daily') }}
    where {{ in_day_window('price_date') }}

),

crowd_reports as (

    select * from {{ ref('stg_crowd__price_reports') }}
    where {{ in_day_window('reported_date') }}

),

-- A GTIN is a canonical identity: any retailer product with it gives the product_key.
gtin_products as (

    select distinct
        gtin14,
        product_key
    from {{ ref('int_retailer_products_matched') }}
    where gtin14 is not null

),

crowd_keyed as (

    select
        crowd_reports.*,
        gtin_products.product_key,
        case
            when crowd_reports.retailer is not null and crowd_reports.store_id is not null
                then {{ surrogate_key(['crowd_reports.retailer', 'crowd_reports.store_id']) }}
        end as store_key
    from crowd_reports
    left join gtin_products
        on {{ valid_gtin14('crowd_reports.gtin') }} = gtin_products.gtin14

),

wrong_price_reports as (

    select
        reported_date,
        store_key,
        product_key,
        wrong_price_reference,
        count(*) as report_count
    from crowd_keyed
    where report_type = 'price_is_wrong' and store_key is not null and product_key is not null
    group by reported_date, store_key, product_key, wrong_price_reference

),

observations as (

    select
        price_id as observation_id,
        price_date as observed_date,
        'scraped' as source_type,
        source,
        store_key,
        retailer,
        product_key,
        retailer_product_key,
        price,
        currency,
        cast(null as text) as proof_type,
        cast(null as text) as report_id,
        run_id,
        0.95 as base_trust_score
    from scraped

    union all

    select
        {{ surrogate_key(["'crowd'", 'report_id']) }} as observation_id,
        reported_date as observed_date,
        'crowd' as source_type,
        'crowd:' || coalesce(file_sha256, '') as source,
        store_key,
        retailer,
        product_key,
        cast(null as text) as retailer_product_key,
        price,
        currency,
        proof_type,
        report_id,
        cast(null as text) as run_id,
        case when proof_type is not null then 0.80 else 0.60 end as base_trust_score
    from crowd_keyed
    where report_type = 'price' and price is not null

),

with_reports as (

    select
        observations.*,
        coalesce(sum(wrong_price_reports.report_count), 0) as wrong_price_reports
    from observations
    left join wrong_price_reports
        on
            observations.observed_date = wrong_price_reports.reported_date
            and observations.store_key = wrong_price_reports.store_key
            and observations.product_key = wrong_price_reports.product_key
            and (
                wrong_price_reports.wrong_price_reference is null
                or observations.price = wrong_price_reports.wrong_price_reference
            )
    group by
        observations.observation_id, observations.observed_date, observations.source_type,
        observations.source, observations.store_key, observations.retailer, observations.product_key,
        observations.retailer_product_key, observations.price, observations.currency,
        observations.proof_type, observations.report_id, observations.run_id, observations.base_trust_score

),

final as (

    select
        observation_id,
        observed_date,
        source_type,
        source,
        store_key,
        retailer,
        product_key,
        retailer_product_key,
        price,
        currency,
        proof_type,
        report_id,
        run_id,
        cast(wrong_price_reports as integer) as wrong_price_reports,
        cast(greatest(0, base_trust_score - 0.25 * wrong_price_reports) as numeric(4, 3)) as trust_score
    from with_reports

)

select * from final
