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

{#-
    `column between min_date and max_date`, optionally widened by `lookback_days`
    before min_date and `lead_days` after max_date (capped so the open-ended
    default window does not overflow the date type).
-#}
{% macro in_day_window(column, lookback_days=0, lead_days=0) -%}
    {{ column }} between {{ window_min_date() }} - {{ lookback_days }} and {{ window_max_date_with_lead(lead_days) }}
{%- endmacro %}

{% macro window_max_date_with_lead(lead_days=0) -%}
    {%- if lead_days -%}
        least({{ window_max_date() }}, cast('9999-01-01' as date)) + {{ lead_days }}
    {%- else -%}
        {{ window_max_date() }}
    {%- endif -%}
{%- endmacro %}

{#-
    Facts that compare a row with its series' previous observation (price
    changes, availability): replacing the window's days also changes the
    comparison of each series' first observation after the window. The
    pre-hook deletes the window's rows and those follow-up rows (later rows
    whose previous observation is on or before the window's end, or that had
    none); the model re-inserts both, so the fact converges with a full build.
    On a daily build of the latest day no row lies after the window: no extra cost.
-#}
{% macro delete_window_and_follow_ups(date_column, previous_date_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            {{ date_column }} between {{ window_min_date() }} and {{ window_max_date() }}
            or (
                {{ date_column }} > {{ window_max_date() }}
                and ({{ previous_date_column }} is null or {{ previous_date_column }} <= {{ window_max_date() }})
            )
    {%- endif -%}
{%- endmacro %}

{#- Each series' first row in fct_prices_daily after the window (none without vars). -#}
{% macro first_prices_after_window(prices_relation) -%}
    select distinct on (store_key, retailer_product_key) *
    from {{ prices_relation }}
    where price_date > {{ window_max_date() }}
    order by store_key asc, retailer_product_key asc, price_date asc
{%- endmacro %}

{#-
    The pre-hook of every daily fact: delete the window's days (and `lead_days`
    after them) before the model appends what the window holds now. Unlike
    delete+insert on the day column, which deletes only the days the new batch
    has rows for, this also empties a day whose replaced partition has no rows
    left, so an incremental build always converges with a full one. Runs in the
    model's transaction: readers see the old day or the new day, never neither.
-#}
{% macro delete_day_window(date_column, lead_days=0) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ in_day_window(date_column, lead_days=lead_days) }}
    {%- endif -%}
{%- endmacro %}
