-- Store attributes per (retailer, scrape_date, store_id). Renaming and typing only.
with

source as (

    select * from {{ source('scraped', 'stores') }}

),

renamed as (

    select
        retailer::text as retailer,
        store_id::text as store_id,
        store_name::text as store_name,
        address::text as address,
        postcode::text as postcode,
        latitude::double precision as latitude,
        longitude::double precision as longitude,
        region::text as region,
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
