{#-
    Product matching helpers (intermediate/catalog/int_retailer_products_*).
-#}

{#- A GTIN (8, 12, 13 or 14 digits) with a correct GS1 check digit, as GTIN-14; else null. -#}
{% macro valid_gtin14(column) -%}
    case
        when {{ column }} ~ '^([0-9]{8}|[0-9]{12,14})$'
            and (
                10 - (
                    select sum(
                        cast(substr(lpad({{ column }}, 14, '0'), position_index, 1) as integer)
                        * case when position_index % 2 = 1 then 3 else 1 end
                    )
                    from generate_series(1, 13) as position_index
                ) % 10
            ) % 10 = cast(right({{ column }}, 1) as integer)
            then lpad({{ column }}, 14, '0')
    end
{%- endmacro %}

{#-
    Normalised words of a product name: lowercase, no punctuation, no size or
    pack tokens ("2l", "500 g", "4 x 125g", "dozen", "pack"), no brand words,
    sorted and de-duplicated so word order and formatting do not matter.
-#}
{% macro normalised_name_words(name_column, brand_column) -%}
    array_to_string(
        array(
            select distinct name_word
            from regexp_split_to_table(
                regexp_replace(
                    regexp_replace(
                        lower(coalesce({{ name_column }}, '')),
                        '[0-9]+([.,][0-9]+)?\s*(x|kg|g|ml|l|litre|litres|liter|pk|pack|each|ea)\y', ' ', 'g'
                    ),
                    '[^a-z0-9 ]+', ' ', 'g'
                ),
                '\s+'
            ) as name_word
            where name_word <> ''
                and name_word not in ('x', 'kg', 'g', 'ml', 'l', 'pack', 'pk', 'each', 'ea', 'per', 'dozen', 'bag', 'litre', 'litres')
                and name_word <> all(regexp_split_to_array(lower(coalesce({{ brand_column }}, '')), '[^a-z]+'))
            order by name_word
        ),
        ' '
    )
{%- endmacro %}

{#- Brand + name words + size (quantity in kg, l or each): the name_size match key. -#}
{% macro name_size_key(name_column, brand_column, quantity_column, unit_column) -%}
    regexp_replace(lower(coalesce({{ brand_column }}, '')), '[^a-z]+', '', 'g')
    || '|' || {{ normalised_name_words(name_column, brand_column) }}
    || '|' || coalesce(cast(round(cast({{ quantity_column }} as numeric), 3) as text), '')
    || coalesce({{ unit_column }}, '')
{%- endmacro %}

{#- The price tie-break of int_retailer_products_matched found a mutual nearest GTIN within 5 %. -#}
{% macro price_tie_break_ok() -%}
    coalesce(price_tie_breaks.nearest_distance <= ln(1.05), false)
{%- endmacro %}

{#- The name_size key without its size: brand + name words, one product line in any pack size. -#}
{% macro brand_name_key(name_size_key_column) -%}
    regexp_replace({{ name_size_key_column }}, '\|[^|]*$', '')
{%- endmacro %}
