{#-
    The one rule for "this price is a promotion": a was-price above the price.
    An equal or lower was-price, or none, is the regular price (fct_prices_daily's
    is_promotion, and the regular price matching compares, both use it).
-#}
{% macro is_promotion(was_price_column, price_column) -%}
    coalesce({{ was_price_column }} > {{ price_column }}, false)
{%- endmacro %}
