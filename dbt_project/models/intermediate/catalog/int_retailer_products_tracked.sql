-- One row per retailer product (retailer, retailer_product_id): its latest
-- attributes, first and last day seen, validated GTIN and name + size key.
-- Incremental over the day window: only products seen in the window are
-- re-computed, merged with what was known before (cost grows with new data).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='retailer_product_key',
        on_schema_change='fail',
        indexes=[{'columns': ['retailer_product_key']}],
    )
}}

with

observations as (

    select * from {{ ref('int_price_observations_keyed') }}
    where {{ in_day_window('scrape_date') }}

),

latest_in_window as (

    select distinct on (retailer_product_key)
        retailer_product_key,
        retailer,
        retailer_product_id,
        product_name,
        brand,
        category_path,
        gtin,
        package_size_text,
        package_quantity,
        package_unit,
        scrape_date,
        fetched_at
    -- store_id breaks ties so the pick is deterministic.
    from observations
    order by retailer_product_key asc, scrape_date desc, fetched_at desc, store_id asc

),

span_in_window as (

    select
        retailer_product_key,
        min(scrape_date) as first_seen_date,
        max(scrape_date) as last_seen_date
    from observations
    group by retailer_product_key

),

-- Median shelf price across branches on the product's latest day in the window
-- (a tie-breaker for matching products whose name + size is ambiguous).
latest_day_prices as (

    select
        observations.retailer_product_key,
        cast(percentile_cont(0.5) within group (order by observations.price) as numeric(12, 2)) as median_price
    from observations
    inner join span_in_window
        on
            observations.retailer_product_key = span_in_window.retailer_product_key
            and observations.scrape_date = span_in_window.last_seen_date
    group by observations.retailer_product_key

),

from_window as (

    select
        latest_in_window.*,
        span_in_window.first_seen_date,
        span_in_window.last_seen_date,
        latest_day_prices.median_price
    from latest_in_window
    inner join span_in_window
        on latest_in_window.retailer_product_key = span_in_window.retailer_product_key
    inner join latest_day_prices
        on latest_in_window.retailer_product_key = latest_day_prices.retailer_product_key

),

-- What earlier runs knew (nothing on a full build), left-joined below to the
-- window's products by key. Not pre-joined to from_window here: the planner
-- guesses a 200-row window and would re-run that join per window product.
known as (

    {% if is_incremental() %}
        select * from {{ this }}
    {% else %}
        select from_window.*
        from from_window
        where false
    {% endif %}

),

with_recency as (

    select
        from_window.*,
        known.product_name as known_product_name,
        known.brand as known_brand,
        known.category_path as known_category_path,
        known.gtin as known_gtin,
        known.package_size_text as known_package_size_text,
        known.package_quantity as known_package_quantity,
        known.package_unit as known_package_unit,
        known.median_price as known_median_price,
        known.first_seen_date as known_first_seen_date,
        known.last_seen_date as known_last_seen_date,
        coalesce(known.last_seen_date > from_window.last_seen_date, false) as newer_known
    from from_window
    left join known
        on from_window.retailer_product_key = known.retailer_product_key

),

-- The newer of (known, window) supplies the attributes; the span is the union.
merged as (

    select
        retailer_product_key,
        retailer,
        retailer_product_id,
        case when newer_known then known_product_name else product_name end as product_name,
        case when newer_known then known_brand else brand end as brand,
        case when newer_known then known_category_path else category_path end as category_path,
        case when newer_known then known_gtin else gtin end as gtin,
        case when newer_known then known_package_size_text else package_size_text end as package_size_text,
        case when newer_known then known_package_quantity else package_quantity end as package_quantity,
        case when newer_known then known_package_unit else package_unit end as package_unit,
        case when newer_known then known_median_price else median_price end as median_price,
        least(known_first_seen_date, first_seen_date) as first_seen_date,
        greatest(known_last_seen_date, last_seen_date) as last_seen_date
    from with_recency

),

final as (

    select
        *,
        {{ valid_gtin14('gtin') }} as gtin14,
        {{ name_size_key('product_name', 'brand', 'package_quantity', 'package_unit') }} as name_size_key
    from merged

)

select * from final
