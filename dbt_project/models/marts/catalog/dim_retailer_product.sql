-- One row per retailer product (retailer, retailer_product_id): which canonical
-- product it is (product_key), by which matching rule and with what confidence,
-- and its category twice: as the retailer lists it and as the canonical
-- category it maps to (ADR 0020).
with

matched as (

    select * from {{ ref('int_retailer_products_matched') }}

),

categories as (

    select * from {{ ref('int_retailer_categories_mapped') }}

),

final as (

    select
        matched.retailer_product_key,
        matched.product_key,
        matched.retailer,
        matched.retailer_product_id,
        matched.match_method,
        cast(matched.match_confidence as numeric(4, 3)) as match_confidence,
        matched.root_retailer_product_key,
        matched.product_name,
        matched.brand,
        matched.category_path,
        categories.category_key,
        matched.gtin,
        matched.gtin14,
        matched.name_size_key,
        matched.package_size_text,
        matched.package_quantity,
        matched.package_unit,
        matched.pack_count,
        matched.first_seen_date,
        matched.last_seen_date
    from matched
    inner join categories
        on matched.category_path is not distinct from categories.retailer_category_path

)

select * from final
