-- The canonical category tree (seed category_taxonomy, a part of the Open Food
-- Facts categories taxonomy; ADR 0020) with each node's level and full path of
-- names from its root, e.g. "Dairies > Milks". A table: small, and read by the
-- category mapping and dim_category.
{{ config(materialized='table') }}

with recursive

taxonomy as (

    select * from {{ ref('category_taxonomy') }}

),

tree as (

    select
        category_id,
        category_name,
        cast(null as text) as parent_category_id,
        source,
        1 as category_level,
        cast(category_name as text) as category_path
    from taxonomy
    where parent_category_id is null

    union all

    select
        child.category_id,
        child.category_name,
        child.parent_category_id,
        child.source,
        parent.category_level + 1 as category_level,
        parent.category_path || ' > ' || child.category_name as category_path
    from taxonomy as child
    inner join tree as parent
        on child.parent_category_id = parent.category_id

),

final as (

    select
        {{ surrogate_key(['category_id']) }} as category_key,
        category_id,
        category_name,
        case
            when parent_category_id is not null then {{ surrogate_key(['parent_category_id']) }}
        end as parent_category_key,
        parent_category_id,
        category_level,
        category_path,
        source
    from tree

)

select * from final
