-- One observed shelf price per (retailer, scrape_date, store_id, retailer_product_id).
-- Renaming and typing only; run status filtering happens in the mart.
with

source as (

    select * from {{ source('scraped', 'price_observations') }}

),

renamed as (

    select
        retailer::text as retailer,
        store_id::text as store_id,
        retailer_product_id::text as retailer_product_id,
        product_name::text as product_name,
        brand::text as brand,
        category_path::text as category_path,
        gtin::text as gtin,
        package_size_text::text as package_size_text,
        package_quantity::numeric(14, 4) as package_quantity,
        package_unit::text as package_unit,
        pack_count::integer as pack_count,
        price::numeric(12, 2) as price,
        was_price::numeric(12, 2) as was_price,
        currency::text as currency,
        unit_price_text::text as unit_price_text,
        unit_price::numeric(14, 4) as unit_price,
        in_stock::boolean as in_stock,
        scrape_date::date as scrape_date,
        fetched_at::timestamptz as fetched_at,
        source::text as source,
        source_url::text as source_url,
        run_id::text as run_id

    from source

),

final as (

    select * from renamed

)

select * from final
