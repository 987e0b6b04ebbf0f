-- Crawl runs that finished: the one place that decides which scraped rows may
-- reach a mart. A running or failed run's rows never do, whatever model reads
-- them. A degraded run (completed, but beyond its crawl health thresholds)
-- reaches the marts flagged (is_degraded, catalog.fct_crawl_health); the
-- delivery's quality gate refuses its days.
with

scrape_runs as (

    select * from {{ ref('stg_scraped__scrape_runs') }}

),

final as (

    select
        run_id,
        retailer,
        scrape_date,
        run_status = 'degraded' as is_degraded
    from scrape_runs
    where run_status in ('succeeded', 'degraded')

)

select * from final
