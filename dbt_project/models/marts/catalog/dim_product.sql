-- One row per canonical product (product_key), across retailers. Attributes
-- come from the strongest listing: one with a valid GTIN first, then the most
-- confident match, then the most recently seen.
with

retailer_products as (

    select * from {{ ref('int_retailer_products_matched') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by product_key
            order by
                (gtin14 is not null) desc,
                match_confidence desc,
                last_seen_date desc,
                retailer asc,
                retailer_product_id asc
        ) as strength_rank
    from retailer_products

),

per_product as (

    select
        product_key,
        count(distinct retailer) as retailer_count,
        count(*) as retailer_product_count,
        min(first_seen_date) as first_seen_date,
        max(last_seen_date) as last_seen_date
    from retailer_products
    group by product_key

),

final as (

    select
        ranked.product_key,
        ranked.canonical_identity,
        ranked.product_name,
        ranked.brand,
        {{ surrogate_key(['ranked.category_path']) }} as category_key,
        ranked.category_path,
        ranked.gtin14 as gtin,
        ranked.package_size_text,
        ranked.package_quantity,
        ranked.package_unit,
        cast(per_product.retailer_count as integer) as retailer_count,
        cast(per_product.retailer_product_count as integer) as retailer_product_count,
        per_product.first_seen_date,
        per_product.last_seen_date
    from ranked
    inner join per_product
        on ranked.product_key = per_product.product_key
    where ranked.strength_rank = 1

)

select * from final
