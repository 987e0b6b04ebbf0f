-- Sellable: which product shoppers substitute for which (and the categories involved).
-- Only consenting shoppers; a flow chosen by fewer than k distinct shoppers is suppressed.
with

events as (

    select * from {{ ref('int_trends__consented_events') }}

),

products as (

    select * from {{ ref('stg_catalog_ref__products') }}

),

aggregated as (

    select
        from_product_key,
        to_product_key,
        count(distinct anonymous_user_id) as shoppers,
        count(*) as substitutions
    from events
    where event_type = 'substitution_chosen'
    group by from_product_key, to_product_key

),

final as (

    select
        aggregated.from_product_key,
        aggregated.to_product_key,
        coalesce(from_products.category_path, 'Uncategorised') as from_category_path,
        coalesce(to_products.category_path, 'Uncategorised') as to_category_path,
        aggregated.shoppers,
        aggregated.substitutions
    from aggregated
    left join products as from_products
        on aggregated.from_product_key = from_products.product_key
    left join products as to_products
        on aggregated.to_product_key = to_products.product_key
    where aggregated.shoppers >= {{ var('k_threshold') }}

)

select * from final
