-- One row per crawl run. Renaming and typing only.
with

source as (

    select * from {{ source('scraped', 'scrape_runs') }}

),

renamed as (

    select
        run_id::text as run_id,
        source::text as source,
        retailer::text as retailer,
        scrape_date::date as scrape_date,
        started_at::timestamptz as started_at,
        finished_at::timestamptz as finished_at,
        status::text as run_status,
        pages::integer as pages_crawled,
        items::integer as items_scraped,
        stores::integer as stores_scraped,
        rejects::integer as items_rejected,
        errors::integer as errors,
        duration_seconds::double precision as duration_seconds,
        message::text as message,
        products::integer as products_scraped,
        health::jsonb as crawl_health

    from source

),

final as (

    select * from renamed

)

select * from final
