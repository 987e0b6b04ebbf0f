-- The canonical category tree (ADR 0020): one row per category of the seed
-- category_taxonomy (a part of the Open Food Facts categories taxonomy, plus
-- SmartCart's non-food and Uncategorised nodes), with its parent, level, full
-- path and how many canonical products sit directly in it. Retailer category
-- paths map onto it through seed retailer_category_map.
with

tree as (

    select * from {{ ref('int_category_tree') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

product_counts as (

    select
        category_key,
        count(*) as product_count
    from products
    group by category_key

),

final as (

    select
        tree.category_key,
        tree.category_id,
        tree.category_name,
        tree.parent_category_key,
        tree.category_level,
        tree.category_path,
        trim(split_part(tree.category_path, '>', 1)) as department,
        tree.source,
        cast(coalesce(product_counts.product_count, 0) as integer) as product_count
    from tree
    left join product_counts
        on tree.category_key = product_counts.category_key

)

select * from final
