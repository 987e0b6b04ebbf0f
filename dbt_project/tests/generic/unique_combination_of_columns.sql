{#-
    Fails for every combination of `columns` that occurs more than once.
    A local stand-in for dbt_utils.unique_combination_of_columns (no packages).
-#}
{% test unique_combination_of_columns(model, columns) %}

with

grouped as (

    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ columns | join(', ') }}

),

final as (

    select * from grouped
    where row_count > 1

)

select * from final

{% endtest %}
