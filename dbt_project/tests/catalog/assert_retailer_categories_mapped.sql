-- Warns (does not block a delivery) with one row per retailer category that
-- maps to no canonical category (ADR 0020): the path as listed and its share of
-- retailer products. The failing rows are stored (store_failures) so ops read
-- the list in intermediate.assert_retailer_categories_mapped; add a row to seed retailer_category_map to fix.
{{ config(severity='warn', store_failures=true, schema='intermediate') }}

select
    coalesce(retailer_category_path, '(no category)') as retailer_category_path,
    retailer_product_count,
    retailer_product_share
from {{ ref('int_retailer_categories_mapped') }}
where mapped_by = 'unmapped'
order by retailer_product_share desc, retailer_category_path asc
