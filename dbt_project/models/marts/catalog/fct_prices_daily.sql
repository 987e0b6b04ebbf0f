-- One row per (price_date, store_key, product_key): the shelf price observed on
-- that day by a succeeded crawl run. Keys are computed with the same macro as
-- the dimensions (not joined), so the relationships tests catch any orphan.
with

price_observations as (

    select * from {{ ref('stg_scraped__price_observations') }}

),

scrape_runs as (

    select * from {{ ref('stg_scraped__scrape_runs') }}

),

-- The loader replaces a (retailer, scrape_date) partition atomically, but a
-- running or failed run must never reach a sellable mart: filter defensively.
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

keyed as (

    select
        *,
        scrape_date as price_date,
        {{ surrogate_key(['retailer', 'store_id']) }} as store_key,
        {{ surrogate_key(['retailer', 'retailer_product_id']) }} as product_key
    from observations_from_succeeded_runs

),

final as (

    select
        {{ surrogate_key(["to_char(price_date, 'YYYY-MM-DD')", 'store_key', 'product_key']) }} as price_id,
        price_date,
        store_key,
        product_key,
        retailer,
        price,
        was_price,
        coalesce(was_price > price, false) as is_promotion,
        currency,
        -- Price per kg, l or each (package_quantity is already in that unit);
        -- fall back to the pipeline's unit price when the quantity is unknown.
        case
            when package_quantity > 0
                then round(price / package_quantity, 4)
            else unit_price
        end as unit_price,
        package_unit,
        in_stock,
        source,
        run_id,
        fetched_at
    from keyed

)

select * from final
