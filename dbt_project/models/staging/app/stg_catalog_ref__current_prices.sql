-- The latest shelf price per store and product, as published into catalog_ref.
with

source as (

    select * from {{ source('catalog_ref', 'current_prices') }}

),

final as (

    select
        store_key::text as store_key,
        product_key::text as product_key,
        price_date::date as price_date,
        price::numeric(12, 2) as price
    from source

)

select * from final
