-- Optimizer batch splits of saved lists (one row per list, store region and price date).
with

source as (

    select * from {{ source('app', 'optimizer_batch_results') }}

),

final as (

    select
        list_id::text as list_id,
        anonymous_user_id::uuid as anonymous_user_id,
        region::text as store_region,
        price_date::date as price_date,
        items::integer as items,
        status::text as status,
        stores_used::integer as stores_used,
        split_total::numeric(12, 2) as split_total,
        best_single_store_total::numeric(12, 2) as best_single_store_total,
        saving::numeric(12, 2) as saving
    from source

)

select * from final
