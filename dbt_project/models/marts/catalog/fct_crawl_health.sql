-- One row per (retailer, crawl_date): the crawl whose rows the marts hold for
-- that day (its latest loaded run) and its crawl health verdict. The flag on
-- degraded data in the marts: join on (retailer, price_date = crawl_date).
-- Degraded days never ship: the catalog quality suites block the delivery.
{{ config(materialized='table') }}

with

scrape_runs as (

    select * from {{ ref('stg_scraped__scrape_runs') }}

),

loaded_runs as (

    select
        *,
        row_number() over (
            partition by retailer, scrape_date
            order by finished_at desc, run_id desc
        ) as recency
    from scrape_runs
    where run_status in ('succeeded', 'degraded')

),

final as (

    select
        {{ surrogate_key(["retailer", "to_char(scrape_date, 'YYYY-MM-DD')"]) }}
            as crawl_health_id,
        retailer,
        scrape_date as crawl_date,
        run_id,
        run_status = 'degraded' as is_degraded,
        items_scraped as price_rows,
        items_rejected,
        products_scraped,
        (crawl_health -> 'measures' ->> 'reject_share')::numeric
            as reject_share,
        (crawl_health -> 'measures' ->> 'quarantined_page_share')::numeric
            as quarantined_page_share,
        (crawl_health -> 'measures' ->> 'rows_vs_previous')::numeric
            as rows_vs_previous,
        (crawl_health -> 'measures' ->> 'coverage_vs_previous')::numeric
            as coverage_vs_previous,
        (crawl_health ->> 'previous_good_day')::date as previous_good_day,
        coalesce(crawl_health -> 'breaches', '[]'::jsonb)::text as breaches
    from loaded_runs
    where recency = 1

)

select * from final
