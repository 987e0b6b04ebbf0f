-- Catalog stores as published into catalog_ref. Renaming and typing only.
with

source as (

    select * from {{ source('catalog_ref', 'stores') }}

),

final as (

    select
        store_key::text as store_key,
        retailer::text as retailer,
        store_name::text as store_name,
        coalesce(region, 'unknown')::text as region
    from source

)

select * from final
