-- Sellable: baskets (final list contents) by shopper region, week and spend band, valued at
-- the cheapest current price of each product. Cells under k distinct shoppers are suppressed.
with

items as (

    select * from {{ ref('int_trends__basket_items') }}

),

prices as (

    select * from {{ ref('stg_catalog_ref__current_prices') }}

),

cheapest_prices as (

    select
        product_key,
        min(price) as price
    from prices
    group by product_key

),

baskets as (

    select
        items.anonymous_user_id,
        items.list_id,
        items.shopper_region,
        items.week_start,
        count(*) as items,
        sum(items.quantity * cheapest_prices.price) as basket_value
    from items
    left join cheapest_prices
        on items.product_key = cheapest_prices.product_key
    group by items.anonymous_user_id, items.list_id, items.shopper_region, items.week_start

),

banded as (

    select
        *,
        {{ trends_spend_band('basket_value') }} as spend_band
    from baskets

),

aggregated as (

    select
        shopper_region,
        week_start,
        spend_band,
        count(distinct anonymous_user_id) as shoppers,
        count(*) as baskets,
        round(avg(items), 2) as avg_items,
        round(avg(basket_value), 2) as avg_basket_value
    from banded
    group by shopper_region, week_start, spend_band

),

final as (

    select * from aggregated
    where shoppers >= {{ var('k_threshold') }}

)

select * from final
