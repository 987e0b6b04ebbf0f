-- Sellable: what baskets in each spend band are made of (share of items per category).
-- Cells under k distinct shoppers are suppressed.
with

items as (

    select * from {{ ref('int_trends__basket_items') }}

),

products as (

    select * from {{ ref('stg_catalog_ref__products') }}

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

basket_values as (

    select
        items.anonymous_user_id,
        items.list_id,
        sum(items.quantity * cheapest_prices.price) as basket_value
    from items
    left join cheapest_prices
        on items.product_key = cheapest_prices.product_key
    group by items.anonymous_user_id, items.list_id

),

categorised as (

    select
        items.anonymous_user_id,
        items.list_id,
        {{ trends_spend_band('basket_values.basket_value') }} as spend_band,
        coalesce(products.category, 'Uncategorised') as category,
        items.quantity
    from items
    inner join basket_values
        on
            items.anonymous_user_id = basket_values.anonymous_user_id
            and items.list_id = basket_values.list_id
    left join products
        on items.product_key = products.product_key

),

aggregated as (

    select
        spend_band,
        category,
        count(distinct anonymous_user_id) as shoppers,
        count(distinct list_id) as baskets,
        count(*) as items,
        sum(quantity) as units
    from categorised
    group by spend_band, category

),

final as (

    select
        spend_band,
        category,
        shoppers,
        baskets,
        items,
        units,
        round(items::numeric / sum(items) over (partition by spend_band), 4) as share_of_band_items
    from aggregated
    where shoppers >= {{ var('k_threshold') }}

)

select * from final
