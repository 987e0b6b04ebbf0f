{#-
    Surrogate key: md5 of the given column expressions cast to text and joined
    with '|'. store_key = md5(retailer || '|' || store_id), and so on.
    Kept local (not dbt_utils) so the project has no package dependencies.
    Null parts become '' so a key is never null (key columns are not null anyway).
-#}
{% macro surrogate_key(column_expressions) -%}
    md5(
        {%- for expression in column_expressions %}
        coalesce(cast({{ expression }} as text), '')
        {%- if not loop.last %} || '|' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
