-- Shelf prices from succeeded crawl runs only, keyed, with a comparable unit
-- price (per kg, l or each) and a unit-mismatch check against the retailer's
-- own displayed unit price. A view: callers filter on scrape_date (indexed in
-- raw), so a daily build reads one day, not the whole history.
with

price_observations as (

    select * from {{ ref('stg_scraped__price_observations') }}

),

succeeded_runs as (

    select * from {{ ref('int_scrape_runs_succeeded') }}

),

observations_from_succeeded_runs as (

    select price_observations.*
    from price_observations
    inner join succeeded_runs
        on price_observations.run_id = succeeded_runs.run_id

),

unit_priced as (

    select
        *,
        -- package_quantity is already in kg, l or each (multipacks summed by
        -- the pipeline: "6 x 375mL" is 2.25 l), so price / quantity compares
        -- across pack sizes; without a quantity, the parsed unit price.
        cast(
            case
                when package_quantity > 0 then round(price / package_quantity, 4)
                else unit_price
            end as numeric(14, 4)
        ) as comparable_unit_price
    from observations_from_succeeded_runs

),

final as (

    select
        {{ surrogate_key(['retailer', 'store_id']) }} as store_key,
        {{ surrogate_key(['retailer', 'retailer_product_id']) }} as retailer_product_key,
        retailer,
        store_id,
        retailer_product_id,
        product_name,
        brand,
        category_path,
        gtin,
        package_size_text,
        package_quantity,
        package_unit,
        pack_count,
        price,
        was_price,
        currency,
        unit_price as displayed_unit_price,
        comparable_unit_price,
        -- Unit mismatch: no usable unit, or the retailer's displayed unit price
        -- disagrees with price / quantity by more than 5 % (a wrong pack size).
        coalesce(
            package_unit is null
            or (
                package_quantity > 0 and unit_price > 0
                and abs(unit_price - price / package_quantity) > 0.05 * unit_price
            ),
            false
        ) as has_unit_mismatch,
        in_stock,
        scrape_date,
        fetched_at,
        source,
        source_url,
        run_id
    from unit_priced

)

select * from final
