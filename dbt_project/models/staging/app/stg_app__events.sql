-- App events with their payload fields typed as columns. Renaming and typing only.
with

source as (

    select * from {{ source('app', 'app_events') }}

),

renamed as (

    select
        event_id::text as event_id,
        anonymous_user_id::uuid as anonymous_user_id,
        event_type::text as event_type,
        occurred_at::timestamptz as occurred_at,
        date_trunc('week', occurred_at at time zone 'UTC')::date as week_start,
        payload ->> 'list_id' as list_id,
        payload ->> 'product_key' as product_key,
        (payload ->> 'quantity')::numeric as quantity,
        payload ->> 'from_product_key' as from_product_key,
        payload ->> 'to_product_key' as to_product_key,
        payload ->> 'region' as region,
        (payload ->> 'max_stores')::integer as max_stores,
        payload ->> 'preference' as preference,
        payload ->> 'value' as preference_value
    from source

),

final as (

    select * from renamed

)

select * from final
