-- One row per category path (e.g. "Dairy > Milk"), with its top-level
-- department and leaf name, and how many canonical products it holds.
with

products as (

    select * from {{ ref('dim_product') }}

),

categories as (

    select
        category_key,
        coalesce(category_path, 'Uncategorised') as category_path,
        count(*) as product_count
    from products
    group by category_key, coalesce(category_path, 'Uncategorised')

),

final as (

    select
        category_key,
        category_path,
        trim(split_part(category_path, '>', 1)) as department,
        trim(regexp_replace(category_path, '^.*>', '')) as category_name,
        cast(product_count as integer) as product_count
    from categories

)

select * from final
