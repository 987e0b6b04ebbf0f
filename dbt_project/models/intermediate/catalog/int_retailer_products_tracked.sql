-- One row per retailer product (retailer, retailer_product_id): its latest
-- attributes, first and last day seen, validated GTIN and name + size key.
--
-- Incremental, and converging with a full refresh whatever window is rebuilt:
-- - a product whose known span does not overlap the window (the daily case: a
--   new day after everything known) merges the window's summary with what was
--   known, which is exact when the spans do not overlap, and costs the window;
-- - a product whose known span overlaps the window (a re-run, or a replaced
--   partition) is re-derived from its whole per-day history in
--   int_retailer_product_days (an index range per product);
-- - a product no longer seen on any day is deleted by the post-hook.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='retailer_product_key',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['retailer_product_key'], 'unique': true}],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} as tracked"
            ~ " where tracked.first_seen_date <= {{ window_max_date() }}"
            ~ " and tracked.last_seen_date >= {{ window_min_date() }}"
            ~ " and not exists (select 1 from {{ ref('int_retailer_product_days') }} as product_days"
            ~ " where product_days.retailer_product_key = tracked.retailer_product_key){% endif %}",
        ],
    )
}}

with

window_days as (

    select * from {{ ref('int_retailer_product_days') }}
    where {{ in_day_window('scrape_date') }}

),

-- What earlier runs knew (nothing on a full build).
known as (

    {% if is_incremental() %}
        select * from {{ this }}
    {% else %}
        select
            cast(null as text) as retailer_product_key,
            cast(null as date) as first_seen_date,
            cast(null as date) as last_seen_date
        where false
    {% endif %}

),

-- Known products whose span the window overlaps: their history changed.
overlapping as (

    select known.retailer_product_key
    from known
    where
        known.first_seen_date <= {{ window_max_date() }}
        and known.last_seen_date >= {{ window_min_date() }}

),

-- The days a product's row is derived from: the window's days for a product
-- the window does not overlap, every day for one it does.
source_days as (

    select window_days.*
    from window_days
    left join overlapping
        on window_days.retailer_product_key = overlapping.retailer_product_key
    where overlapping.retailer_product_key is null

    union all

    select product_days.*
    from {{ ref('int_retailer_product_days') }} as product_days
    inner join overlapping
        on product_days.retailer_product_key = overlapping.retailer_product_key

),

latest_day as (

    select distinct on (retailer_product_key) *
    from source_days
    order by retailer_product_key asc, scrape_date desc

),

span as (

    select
        retailer_product_key,
        min(scrape_date) as first_seen_date,
        max(scrape_date) as last_seen_date
    from source_days
    group by retailer_product_key

),

derived as (

    select
        latest_day.retailer_product_key,
        latest_day.retailer,
        latest_day.retailer_product_id,
        latest_day.product_name,
        latest_day.brand,
        latest_day.category_path,
        latest_day.gtin,
        latest_day.package_size_text,
        latest_day.package_quantity,
        latest_day.package_unit,
        latest_day.pack_count,
        latest_day.median_price,
        span.first_seen_date,
        span.last_seen_date
    from latest_day
    inner join span
        on latest_day.retailer_product_key = span.retailer_product_key

),

{% if is_incremental() %}
    -- Known rows to merge with (products not overlapping the window), and
    -- whether the known row is the newer one.
    with_known as (

        select
            derived.retailer_product_key,
            known_rows.retailer_product_key as known_retailer_product_key,
            coalesce(known_rows.last_seen_date > derived.last_seen_date, false) as newer_known
        from derived
        left join overlapping
            on derived.retailer_product_key = overlapping.retailer_product_key
        left join {{ this }} as known_rows
            on
                derived.retailer_product_key = known_rows.retailer_product_key
                and overlapping.retailer_product_key is null

    ),
{% endif %}

-- For a product not overlapping the window, the newer of (known, window)
-- supplies the attributes and the span is the union; an overlapping one's
-- derived row is already its whole history.
merged as (

    {% if is_incremental() %}
        select
            derived.retailer_product_key,
            derived.retailer,
            derived.retailer_product_id,
            case when recency.newer_known then known_rows.product_name else derived.product_name end as product_name,
            case when recency.newer_known then known_rows.brand else derived.brand end as brand,
            case when recency.newer_known then known_rows.category_path else derived.category_path end as category_path,
            case when recency.newer_known then known_rows.gtin else derived.gtin end as gtin,
            case
                when recency.newer_known then known_rows.package_size_text else derived.package_size_text
            end as package_size_text,
            case
                when recency.newer_known then known_rows.package_quantity else derived.package_quantity
            end as package_quantity,
            case when recency.newer_known then known_rows.package_unit else derived.package_unit end as package_unit,
            case when recency.newer_known then known_rows.pack_count else derived.pack_count end as pack_count,
            case when recency.newer_known then known_rows.median_price else derived.median_price end as median_price,
            least(known_rows.first_seen_date, derived.first_seen_date) as first_seen_date,
            greatest(known_rows.last_seen_date, derived.last_seen_date) as last_seen_date
        from derived
        left join with_known as recency
            on derived.retailer_product_key = recency.retailer_product_key
        left join {{ this }} as known_rows
            on recency.known_retailer_product_key = known_rows.retailer_product_key
    {% else %}
        select * from derived
    {% endif %}

),

final as (

    select
        *,
        {{ valid_gtin14('gtin') }} as gtin14,
        {{ name_size_key('product_name', 'brand', 'package_quantity', 'package_unit') }} as name_size_key
    from merged

)

select * from final
