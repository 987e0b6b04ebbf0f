-- One crowd-sourced price report (a price seen, or a claim that a listed price is wrong).
-- Renaming and typing only; only reports from files that loaded whole are kept downstream.
with

source as (

    select * from {{ source('crowd', 'crowd_price_reports') }}

),

renamed as (

    select
        report_id::text as report_id,
        file_sha256::text as file_sha256,
        contributor_anonymous_id::text as contributor_anonymous_id,
        report_type::text as report_type,
        product_name::text as product_name,
        gtin::text as gtin,
        lower(retailer)::text as retailer,
        store_name::text as store_name,
        store_id::text as store_id,
        township::text as township,
        region::text as region,
        price::numeric(12, 2) as price,
        upper(currency)::text as currency,
        price_unit::text as price_unit,
        reported_date::date as reported_date,
        discount_type::text as discount_type,
        proof_type::text as proof_type,
        wrong_price_reference::numeric(12, 2) as wrong_price_reference,
        loaded_at::timestamptz as loaded_at

    from source

),

final as (

    select * from renamed

)

select * from final
