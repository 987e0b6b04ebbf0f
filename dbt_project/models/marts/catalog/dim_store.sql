-- One row per branch (retailer, store_id): the latest attributes scraped by a
-- succeeded crawl run, its geo position and region, first and last day seen.
with

stores as (

    select * from {{ ref('stg_scraped__stores') }}

),

succeeded_runs as (

    select * from {{ ref('int_scrape_runs_succeeded') }}

),

stores_from_succeeded_runs as (

    select stores.*
    from stores
    inner join succeeded_runs
        on stores.run_id = succeeded_runs.run_id

),

ranked as (

    select
        *,
        min(scrape_date) over store_window as first_seen_date,
        max(scrape_date) over store_window as last_seen_date,
        row_number() over (
            partition by retailer, store_id
            order by scrape_date desc, fetched_at desc
        ) as recency_rank
    from stores_from_succeeded_runs
    window store_window as (partition by retailer, store_id)

),

final as (

    select
        {{ surrogate_key(['retailer', 'store_id']) }} as store_key,
        retailer,
        store_id,
        store_name,
        address,
        postcode,
        latitude,
        longitude,
        coalesce(region, 'unknown') as region,
        first_seen_date,
        last_seen_date
    from ranked
    where recency_rank = 1

)

select * from final
