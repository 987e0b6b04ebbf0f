{#- Spend band of a basket value (currency units): the bands trends buyers see. -#}
{% macro trends_spend_band(value_expression) -%}
    case
        when {{ value_expression }} is null then 'unpriced'
        when {{ value_expression }} < 25 then 'under_25'
        when {{ value_expression }} < 50 then '25_to_50'
        when {{ value_expression }} < 100 then '50_to_100'
        else '100_plus'
    end
{%- endmacro %}
