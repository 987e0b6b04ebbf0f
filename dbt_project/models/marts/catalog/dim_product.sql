-- One row per retailer product (retailer, retailer_product_id) for now: the
-- latest attributes observed by a succeeded crawl run. Cross-retailer matching
-- (one product across retailers, by GTIN and name) comes in a later model.
with

price_observations as (

    select * from {{ ref('stg_scraped__price_observations') }}

),

scrape_runs as (

    select * from {{ ref('stg_scraped__scrape_runs') }}

),

succeeded_runs as (

    select run_id
    from scrape_runs
    where run_status = 'succeeded'

),

observations_from_succeeded_runs as (

    select price_observations.*
    from price_observations
    inner join succeeded_runs
        on price_observations.run_id = succeeded_runs.run_id

),

ranked as (

    select
        *,
        min(scrape_date) over product_window as first_seen_date,
        max(scrape_date) over product_window as last_seen_date,
        -- store_id breaks ties so the pick is deterministic when several
        -- stores list the same product in the same fetch second.
        row_number() over (
            partition by retailer, retailer_product_id
            order by scrape_date desc, fetched_at desc, store_id asc
        ) as recency_rank
    from observations_from_succeeded_runs
    window product_window as (partition by retailer, retailer_product_id)

),

final as (

    select
        {{ surrogate_key(['retailer', 'retailer_product_id']) }} as product_key,
        retailer,
        retailer_product_id,
        product_name,
        brand,
        category_path,
        gtin,
        package_size_text,
        package_quantity,
        package_unit,
        first_seen_date,
        last_seen_date
    from ranked
    where recency_rank = 1

)

select * from final
