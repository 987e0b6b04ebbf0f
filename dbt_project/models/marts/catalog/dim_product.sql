-- One row per canonical product (product_key), across retailers. Attributes
-- come from the strongest listing: one with a valid GTIN first, then the most
-- confident match, then the most recently seen. Its category is canonical
-- (ADR 0020): that of its strongest listing whose retailer category maps.
with

retailer_products as (

    select * from {{ ref('int_retailer_products_matched') }}

),

categories as (

    select * from {{ ref('int_retailer_categories_mapped') }}

),

-- A product listed as "Dairy / Milk" at one retailer and under a category no
-- mapping knows at another is still a milk: mapped listings win.
product_categories as (

    select distinct on (retailer_products.product_key)
        retailer_products.product_key,
        categories.category_key,
        categories.category_path
    from retailer_products
    inner join categories
        on retailer_products.category_path is not distinct from categories.retailer_category_path
    order by
        retailer_products.product_key asc,
        (categories.mapped_by <> 'unmapped') desc,
        (retailer_products.gtin14 is not null) desc,
        retailer_products.match_confidence desc,
        retailer_products.last_seen_date desc,
        retailer_products.retailer asc,
        retailer_products.retailer_product_id asc

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
        product_categories.category_key,
        product_categories.category_path,
        ranked.gtin14 as gtin,
        ranked.package_size_text,
        ranked.package_quantity,
        ranked.package_unit,
        ranked.pack_count,
        cast(per_product.retailer_count as integer) as retailer_count,
        cast(per_product.retailer_product_count as integer) as retailer_product_count,
        per_product.first_seen_date,
        per_product.last_seen_date
    from ranked
    inner join per_product
        on ranked.product_key = per_product.product_key
    inner join product_categories
        on ranked.product_key = product_categories.product_key
    where ranked.strength_rank = 1

)

select * from final
