-- Per branch, day and category: the lowest comparable unit price (per kg, l
-- or each) among products in stock, per canonical category (ADR 0020), so one
-- basket line finds "Dairy / Milk" and "Dairy > Milk" alike. Small (branches x categories x days), so
-- weekly basket costs read it instead of every price. Incremental.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ delete_day_window('price_date') }}"],
    )
}}

with

observations as (

    select * from {{ ref('int_price_observations_keyed') }}
    where {{ in_day_window('scrape_date') }} and in_stock

),

retailer_products as (

    select * from {{ ref('int_retailer_products_matched') }}

),

categories as (

    select * from {{ ref('int_retailer_categories_mapped') }}

),

final as (

    select
        observations.scrape_date as price_date,
        observations.store_key,
        categories.category_path,
        observations.package_unit,
        min(observations.comparable_unit_price) as lowest_unit_price
    from observations
    inner join retailer_products
        on observations.retailer_product_key = retailer_products.retailer_product_key
    inner join categories
        on retailer_products.category_path is not distinct from categories.retailer_category_path
    where observations.comparable_unit_price is not null
    group by
        observations.scrape_date,
        observations.store_key,
        categories.category_path,
        observations.package_unit

)

select * from final
