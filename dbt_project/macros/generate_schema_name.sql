{#-
    Use a model's custom schema as-is (`+schema: catalog` -> `catalog`), not
    dbt's default `<target_schema>_<custom_schema>`. Models without a custom
    schema land in the target's schema (`staging`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
