{#-
    Fails for every row whose distinct-shopper count is under k (var k_threshold):
    a trends cell built from fewer than k shoppers must have been suppressed.
-#}
{% test at_least_k_shoppers(model, column_name) %}

with

final as (

    select * from {{ model }}
    where {{ column_name }} < {{ var('k_threshold') }}

)

select * from final

{% endtest %}
