-- One row per retailer product (retailer, retailer_product_id): which canonical
-- product it is (product_key), by which matching rule and with what confidence.
with

matched as (

    select * from {{ ref('int_retailer_products_matched') }}

),

final as (

    select
        retailer_product_key,
        product_key,
        retailer,
        retailer_product_id,
        match_method,
        cast(match_confidence as numeric(4, 3)) as match_confidence,
        root_retailer_product_key,
        product_name,
        brand,
        category_path,
        gtin,
        gtin14,
        name_size_key,
        package_size_text,
        package_quantity,
        package_unit,
        first_seen_date,
        last_seen_date
    from matched

)

select * from final
