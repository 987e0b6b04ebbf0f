{#-
    Data tests on a daily fact check the run's day window, not all of history.

    dbt's generic tests read the tested model through get_where_subquery. This
    override adds `<day_window_column> between min_date and max_date` when the
    run has a day window (Dagster partition runs pass the vars) and the tested
    model declares `meta: {day_window_column: ...}`; a run without vars (a full
    `dbt build`) still tests every row. Relationship tests filter only the
    fact side, so every new fact row is still checked against its dimension.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set window_column = tested_model_day_window_column() -%}
    {%- if window_column and (var('min_date', none) is not none or var('max_date', none) is not none) -%}
        {%- set window = in_day_window(window_column) -%}
        {%- set where = window if not where else '(' ~ where ~ ') and ' ~ window -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro tested_model_day_window_column() -%}
    {%- if not execute or model.resource_type != 'test' or not model.get('attached_node') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) -%}
    {{ return(tested.config.meta.get('day_window_column') if tested else none) }}
{%- endmacro %}
