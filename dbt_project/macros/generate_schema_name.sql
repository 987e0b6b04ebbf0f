{#-
    Use a model's custom schema as-is (`+schema: intermediate` -> `intermediate`), not
    dbt's default `<target_schema>_<custom_schema>`. Models without a custom
    schema land in the target's schema (`staging`).

    The sellable marts (`catalog`, `trends`) are written, audited, then published
    (ADR 0024): dbt builds them into `<mart>_build`, a schema readers cannot see,
    and macros/publish_marts.sql copies a consistent set into `<mart>` only after
    the whole build and its tests succeeded.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim in published_mart_schemas() -%}
        {{ custom_schema_name | trim }}_build
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
