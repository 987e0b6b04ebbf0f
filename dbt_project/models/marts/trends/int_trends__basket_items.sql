{{ config(schema='staging', materialized='table', tags=['trends']) }}
-- The final content of each consented shopper's list: items added, minus items removed,
-- with substitutions applied (the substitute replaces the original at its quantity).
-- Not sellable: it carries anonymous ids.
with

events as (

    select * from {{ ref('int_trends__consented_events') }}

),

lists as (

    select
        anonymous_user_id,
        list_id,
        min(shopper_region) as shopper_region,
        min(week_start) as week_start
    from events
    where event_type = 'list_created'
    group by anonymous_user_id, list_id

),

added as (

    select
        anonymous_user_id,
        list_id,
        product_key,
        max(quantity) as quantity
    from events
    where event_type = 'item_added'
    group by anonymous_user_id, list_id, product_key

),

removed as (

    select distinct
        anonymous_user_id,
        list_id,
        product_key
    from events
    where event_type = 'item_removed'

),

substituted as (

    select distinct on (anonymous_user_id, list_id, from_product_key)
        anonymous_user_id,
        list_id,
        from_product_key,
        to_product_key
    from events
    where event_type = 'substitution_chosen'
    order by anonymous_user_id asc, list_id asc, from_product_key asc, occurred_at desc

),

kept as (

    select
        added.anonymous_user_id,
        added.list_id,
        coalesce(substituted.to_product_key, added.product_key) as product_key,
        added.quantity
    from added
    left join removed
        on
            added.anonymous_user_id = removed.anonymous_user_id
            and added.list_id = removed.list_id
            and added.product_key = removed.product_key
    left join substituted
        on
            added.anonymous_user_id = substituted.anonymous_user_id
            and added.list_id = substituted.list_id
            and added.product_key = substituted.from_product_key
    where removed.product_key is null

),

final as (

    select
        kept.anonymous_user_id,
        kept.list_id,
        lists.shopper_region,
        lists.week_start,
        kept.product_key,
        sum(kept.quantity) as quantity
    from kept
    inner join lists
        on
            kept.anonymous_user_id = lists.anonymous_user_id
            and kept.list_id = lists.list_id
    group by
        kept.anonymous_user_id,
        kept.list_id,
        lists.shopper_region,
        lists.week_start,
        kept.product_key

)

select * from final
