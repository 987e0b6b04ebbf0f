-- One row per retailer category path as listed (any spelling, any retailer):
-- the canonical category it maps to (ADR 0020) and how many retailer products
-- carry it. The mapping is configuration (seed retailer_category_map); both
-- sides are compared normalised (macro category_path_normalised), so "Dairy /
-- Milk" and "Dairy > Milk" map once. Rules, first that matches:
--   path     the whole normalised path is a mapping row;
--   segment  walking from the leaf up, the first path prefix or single segment
--            that is a mapping row ("Pantry > Eggs": "eggs"), so a leaf maps
--            once for every parent spelling, and an unknown leaf falls back
--            to its nearest known parent;
--   unmapped nothing matches: smartcart:uncategorised, listed by the warning
--            test assert_retailer_categories_mapped.
with

retailer_products as (

    select * from {{ ref('int_retailer_products_matched') }}

),

category_map as (

    select
        {{ category_path_normalised('retailer_category') }} as normalised_path,
        category_id
    from {{ ref('retailer_category_map') }}

),

tree as (

    select * from {{ ref('int_category_tree') }}

),

retailer_categories as (

    select
        category_path as retailer_category_path,
        {{ category_path_normalised('category_path') }} as normalised_path,
        count(*) as retailer_product_count
    from retailer_products
    group by category_path

),

segmented as (

    select
        retailer_category_path,
        string_to_array(normalised_path, ' > ') as parts
    from retailer_categories
    where normalised_path is not null

),

-- Each path's candidates: the path prefix and the lone segment at every depth,
-- ranked leaf first (the whole path before its leaf alone).
candidates as (

    select
        segmented.retailer_category_path,
        segment_depth.depth,
        array_to_string(segmented.parts[1:segment_depth.depth], ' > ') as prefix_path,
        segmented.parts[segment_depth.depth] as lone_segment,
        cardinality(segmented.parts) as segment_count
    from segmented
    cross join generate_series(1, cardinality(segmented.parts)) as segment_depth (depth)

),

matches as (

    select distinct on (candidates.retailer_category_path)
        candidates.retailer_category_path,
        category_map.category_id,
        case
            when candidates.depth = candidates.segment_count and category_map.normalised_path = candidates.prefix_path
                then 'path'
            else 'segment'
        end as mapped_by,
        category_map.normalised_path as matched_rule
    from candidates
    inner join category_map
        on category_map.normalised_path in (candidates.prefix_path, candidates.lone_segment)
    order by
        candidates.retailer_category_path asc,
        candidates.depth desc,
        (category_map.normalised_path = candidates.prefix_path) desc

),

final as (

    select
        retailer_categories.retailer_category_path,
        retailer_categories.normalised_path,
        tree.category_key,
        tree.category_id,
        tree.category_path,
        coalesce(matches.mapped_by, 'unmapped') as mapped_by,
        matches.matched_rule,
        cast(retailer_categories.retailer_product_count as integer) as retailer_product_count,
        cast(
            retailer_categories.retailer_product_count
            / sum(retailer_categories.retailer_product_count) over () as numeric(6, 5)
        ) as retailer_product_share
    from retailer_categories
    left join matches
        on retailer_categories.retailer_category_path is not distinct from matches.retailer_category_path
    inner join tree
        on tree.category_id = coalesce(matches.category_id, 'smartcart:uncategorised')

)

select * from final
