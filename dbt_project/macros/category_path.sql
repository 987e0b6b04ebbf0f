{#-
    A retailer category path in one spelling, so "Dairy / Milk", "Dairy > Milk",
    "dairy|milk" and "DAIRY » Milk" are one path (ADR 0020):
    lowercase, accents folded (as folded_text does for product names), "&", "+"
    and the German/French "und"/"et" read as "and", every breadcrumb separator
    ("/", ">", "|", "»", "›", "\", "::") one " > ", other punctuation a space,
    whitespace collapsed, empty segments dropped. Null when nothing is left.
    The mapping seed retailer_category_map is normalised the same way, so its
    rows may be written in any of these spellings.
-#}
{% macro category_path_normalised(column) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(translate(lower(coalesce({{ column }}, '')), 'àáâäãåāçčèéêëēėęìíîïīñńòóôöõøōùúûüūýÿžšß', 'aaaaaaacceeeeeeeiiiiinnooooooouuuuuyyzss'), '[''’`]', '', 'g'), '[&+]', ' and ', 'g'), '(::|[/>|»›\\])', '>', 'g'), '[^a-z0-9>]+', ' ', 'g'), '\m(und|et)\M', 'and', 'g'), '^[\s>]+|[\s>]+$', '', 'g'), '\s*>[\s>]*', ' > ', 'g'), '\s+', ' ', 'g')), '')
{%- endmacro %}
