{{ config(schema='staging', materialized='table', tags=['trends']) }}
-- Events of users who consented to trend sharing (per the vault's current state), each with
-- the user's coarse region. A region with fewer than k consenting shoppers is folded into
-- 'other', so regions are coarse enough to hold k. Not sellable: it carries anonymous ids.
with

events as (

    select * from {{ ref('stg_app__events') }}

),

consents as (

    select * from {{ ref('stg_app__trend_consents') }}

),

consented_events as (

    select events.*
    from events
    inner join consents
        on events.anonymous_user_id = consents.anonymous_user_id
    where consents.trend_sharing

),

-- A shopper's region: where their optimizer requests come from (the latest one wins).
user_region_ranked as (

    select
        anonymous_user_id,
        region,
        row_number() over (
            partition by anonymous_user_id
            order by occurred_at desc, event_id desc
        ) as recency_rank
    from consented_events
    where event_type = 'optimizer_request'

),

users as (

    select distinct anonymous_user_id
    from consented_events

),

user_regions as (

    select
        users.anonymous_user_id,
        coalesce(user_region_ranked.region, 'unknown') as region
    from users
    left join user_region_ranked
        on
            users.anonymous_user_id = user_region_ranked.anonymous_user_id
            and user_region_ranked.recency_rank = 1

),

region_sizes as (

    select
        region,
        count(*) as shoppers
    from user_regions
    group by region

),

coarse_regions as (

    select
        user_regions.anonymous_user_id,
        case
            when region_sizes.shoppers >= {{ var('k_threshold') }} then user_regions.region
            else 'other'
        end as region
    from user_regions
    inner join region_sizes
        on user_regions.region = region_sizes.region

),

final as (

    select
        consented_events.event_id,
        consented_events.anonymous_user_id,
        coarse_regions.region as shopper_region,
        consented_events.event_type,
        consented_events.occurred_at,
        consented_events.week_start,
        consented_events.list_id,
        consented_events.product_key,
        consented_events.quantity,
        consented_events.from_product_key,
        consented_events.to_product_key,
        consented_events.max_stores
    from consented_events
    inner join coarse_regions
        on consented_events.anonymous_user_id = coarse_regions.anonymous_user_id

)

select * from final
