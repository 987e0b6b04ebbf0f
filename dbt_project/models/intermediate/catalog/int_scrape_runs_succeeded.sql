-- Crawl runs that finished successfully: the one place that decides which
-- scraped rows may reach a sellable mart. A running or failed run's rows never
-- do, whatever model reads them.
with

scrape_runs as (

    select * from {{ ref('stg_scraped__scrape_runs') }}

),

final as (

    select
        run_id,
        retailer,
        scrape_date
    from scrape_runs
    where run_status = 'succeeded'

)

select * from final
