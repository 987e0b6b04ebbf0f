-- Catalog products as published into catalog_ref. Renaming and typing only.
with

source as (

    select * from {{ source('catalog_ref', 'products') }}

),

final as (

    select
        product_key::text as product_key,
        product_name::text as product_name,
        brand::text as brand,
        category_path::text as category_path,
        category::text as category
    from source

)

select * from final
