-- Trend-sharing consent per anonymous id (as published from the vault). Typing only.
with

source as (

    select * from {{ source('app', 'trend_consents') }}

),

final as (

    select
        anonymous_user_id::uuid as anonymous_user_id,
        trend_sharing::boolean as trend_sharing,
        as_of::timestamptz as as_of
    from source

)

select * from final
