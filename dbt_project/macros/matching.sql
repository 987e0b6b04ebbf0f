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

{#-
    Product-level matching features (int_retailer_products_matched, ADR 0014).

    folded_text: lowercase, accents folded, apostrophes dropped, every other
    non-alphanumeric run a space ("Nonna's Org. Choc" -> "nonnas org choc").
-#}
{% macro folded_text(column) -%}
    regexp_replace(
        regexp_replace(
            translate(
                lower(coalesce({{ column }}, '')),
                'àáâäãåāçčèéêëēėęìíîïīñńòóôöõøōùúûüūýÿžšß',
                'aaaaaaacceeeeeeeiiiiinnooooooouuuuuyyzss'
            ),
            '[''’`]', '', 'g'
        ),
        '[^a-z0-9]+', ' ', 'g'
    )
{%- endmacro %}

{#- A size with its number ("2l", "1000 ml", "4 x 125g", "6 pack"), in folded text. -#}
{% macro size_token_pattern() -%}
'[0-9]+( [0-9]+)? ?(x|kg|kgs|g|gr|grams|ml|cl|l|lt|ltr|litre|litres|liter|liters|pk|pack|packs|ea|each)\y'
{%- endmacro %}

{#-
    How a size text says the product is sold, through the seed
    package_size_forms (configuration): "per kg", "je kg", "loose" -> "loose".
    It tells loose produce from a packed bag of the same weight, so it is part
    of the size key. Other words ("bag", "each", "Stück", "6er Pack") are only
    spelling: the quantity, unit and pack count already say what they say, and
    retailers drop or translate them ("1kg bag" is "1 kg" at one, "each" is
    "1 Stück" at another), so keeping them split one product into several.
-#}
{% macro size_form(size_text_column) -%}
    coalesce(
        (
            select string_agg(distinct size_forms.size_form, ' ' order by size_forms.size_form)
            from regexp_split_to_table({{ folded_text(size_text_column) }}, '\s+') as size_words (size_word)
            inner join {{ ref('package_size_forms') }} as size_forms
                on size_words.size_word = size_forms.word
        ),
        ''
    )
{%- endmacro %}

{#-
    Units in a pack: "6 x 375mL" -> 6, "4x125g" -> 4, otherwise 1. A multipack
    is another product than the single unit of the same total size. Read from
    the landed pack_count once staging carries it (the pack-size parser's).
-#}
{% macro pack_count_from_size(size_text_column) -%}
    coalesce(cast(substring(lower({{ size_text_column }}) from '^\s*([0-9]{1,3})\s*[x×*]\s*[0-9]') as integer), 1)
{%- endmacro %}

{#-
    The product words of brand + name, as a sorted, de-duplicated string:
    folded, sizes and size-text words dropped, abbreviations expanded through
    the seed product_name_synonyms (configuration), simple plurals stemmed.
    Brand words join the name words, so "Classic Cola - FreshMart" (brand
    FreshMart) and "FreshMart Classic Cola" are the same words, and a brand
    missing from the brand field but present in the name still counts.
-#}
{% macro product_match_words(name_column, brand_column, size_text_column) -%}
    array_to_string(
        array(
            select distinct
                case
                    when match_word ~ 'oes$' and length(match_word) > 4 then left(match_word, -2)
                    when match_word ~ '[^s]s$' and length(match_word) > 3 then left(match_word, -1)
                    else match_word
                end as stemmed_word
            from (
                select coalesce(synonyms.canonical_word, raw_words.raw_word) as match_word
                from regexp_split_to_table(
                    regexp_replace(
                        {{ folded_text(brand_column) }} || ' ' || {{ folded_text(name_column) }},
                        {{ size_token_pattern() }}, ' ', 'g'
                    ),
                    '\s+'
                ) as raw_words (raw_word)
                left join {{ ref('product_name_synonyms') }} as synonyms
                    on raw_words.raw_word = synonyms.word
                where raw_words.raw_word not in (
                    '', 'x', 'kg', 'g', 'ml', 'l', 'pack', 'pk', 'each', 'ea', 'per', 'dozen', 'litre', 'litres', 'loose'
                )
                and raw_words.raw_word <> all(regexp_split_to_array({{ folded_text(size_text_column) }}, ' '))
            ) as product_words
            order by stemmed_word
        ),
        ' '
    )
{%- endmacro %}

{#- The size key: quantity in kg, l or each, units per pack, and the size text's form words. -#}
{% macro product_size_key(quantity_column, unit_column, size_text_column, pack_count_expression) -%}
    rtrim(
        coalesce(cast(round(cast({{ quantity_column }} as numeric), 3) as text), '?')
        || coalesce({{ unit_column }}, '')
        || ' x' || cast({{ pack_count_expression }} as text)
        || ' ' || {{ size_form(size_text_column) }}
    )
{%- endmacro %}
