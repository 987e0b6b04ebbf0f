{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['retailer_product_key', 'product_key'],
        on_schema_change='fail',
        full_refresh=false,
    )
}}

-- Every product_key a retailer product has been given, and the key it has now
-- (ADR 0026). Matching can merge two products (one key retires) or split one
-- (part of it gets a new key). Incremental facts keep the key of the day they
-- were built, so their post-hook (macro rekey_retired_products) and the publish
-- re-key the rows of each pair retired since they last looked: retired_at is
-- when the pair's current key last changed. Never full-refreshed: a fact that
-- is not rebuilt still needs the pairs its older days carry.
with

current_keys as (

    select
        retailer_product_key,
        product_key
    from {{ ref('int_retailer_products_matched') }}

),

previous_pairs as (

    {% if is_incremental() %}
        select
            retailer_product_key,
            product_key,
            current_product_key,
            retired_at
        from {{ this }}
    {% else %}
        select
            cast(null as text) as retailer_product_key,
            cast(null as text) as product_key,
            cast(null as text) as current_product_key,
            cast(null as timestamptz) as retired_at
        where false
    {% endif %}

),

pairs as (

    select
        retailer_product_key,
        product_key
    from current_keys

    union distinct

    select
        retailer_product_key,
        product_key
    from previous_pairs

),

final as (

    select
        pairs.retailer_product_key,
        pairs.product_key,
        -- null once the retailer product is no longer tracked: nothing to re-key it to
        coalesce(current_keys.product_key, previous_pairs.current_product_key) as current_product_key,
        case
            when pairs.product_key = current_keys.product_key then null
            when current_keys.product_key is null then previous_pairs.retired_at
            when previous_pairs.current_product_key = current_keys.product_key then previous_pairs.retired_at
            else now()
        end as retired_at
    from pairs
    left join current_keys
        on pairs.retailer_product_key = current_keys.retailer_product_key
    left join previous_pairs
        on
            pairs.retailer_product_key = previous_pairs.retailer_product_key
            and pairs.product_key = previous_pairs.product_key

)

select * from final
