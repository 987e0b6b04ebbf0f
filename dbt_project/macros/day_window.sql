{#-
    The day window a run builds, from dbt vars (Dagster passes the partition's
    days as `min_date` / `max_date`, both inclusive). Without vars the window
    is all of history, so a plain `dbt build` or `--full-refresh` builds it all.
-#}
{% macro window_min_date() -%}
    cast('{{ var("min_date", "1900-01-01") }}' as date)
{%- endmacro %}

{% macro window_max_date() -%}
    cast('{{ var("max_date", "9999-12-31") }}' as date)
{%- endmacro %}

{#- `column between min_date and max_date`, optionally widened by `lookback_days` before min_date. -#}
{% macro in_day_window(column, lookback_days=0) -%}
    {{ column }} between {{ window_min_date() }} - {{ lookback_days }} and {{ window_max_date() }}
{%- endmacro %}

{#- Delete only inside the window (keeps the delete on an index range, not the whole history). -#}
{% macro window_delete_predicate(column) -%}
    {{ return(["DBT_INTERNAL_DEST." ~ column ~ " between cast('" ~ var("min_date", "1900-01-01") ~ "' as date) and cast('" ~ var("max_date", "9999-12-31") ~ "' as date)"]) }}
{%- endmacro %}
