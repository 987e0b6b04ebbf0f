{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='retailer_product_key',
        on_schema_change='fail',
    )
}}

-- Product matching: every retailer product gets a canonical identity, and
-- product_key = md5(identity). Rules, strongest first:
--   1. gtin                 a valid GTIN (check digit verified) is the identity;
--   2. retailer_key_history a retailer's new key for a product it listed before
--                           (same retailer, same GTIN or same name + size, the
--                           old key gone before the new one appeared) keeps the
--                           old key's identity;
--   3. name_size            normalised brand + name words + size: joins the one
--                           GTIN product with that key, else forms a name
--                           identity; ambiguous keys (several GTINs, or several
--                           live keys at one retailer) stay on their own.
-- The identity never contains a retailer key unless the product is unmatched
-- and ambiguous, so canonical ids survive a retailer re-keying its catalogue.
-- Keys are sticky: a retailer product keeps the product_key it was first
-- given (facts built on earlier days carry it), and a newcomer to a cluster
-- takes the key its earliest member holds. Every run re-matches all retailer
-- products (a table the size of the catalogue, not of the price history).
with

products as (

    select * from {{ ref('int_retailer_products_tracked') }}

),

-- Rule 2: the earliest earlier key of the same product at the same retailer.
predecessors as (

    select distinct on (successor.retailer_product_key)
        successor.retailer_product_key,
        predecessor.retailer_product_key as root_retailer_product_key
    from products as successor
    inner join products as predecessor
        on
            successor.retailer = predecessor.retailer
            and successor.retailer_product_key <> predecessor.retailer_product_key
            and successor.first_seen_date > predecessor.last_seen_date
            and (
                successor.gtin14 = predecessor.gtin14
                or (successor.gtin14 is null and successor.name_size_key = predecessor.name_size_key)
            )
    order by
        successor.retailer_product_key asc,
        predecessor.first_seen_date asc,
        predecessor.retailer_product_key asc

),

-- Per name + size key: how many distinct GTINs carry it (across retailers), and
-- the most distinct live listings one retailer has under it (a retailer
-- listing two items under one name + size key shows the key is ambiguous).
listings_per_retailer as (

    select
        products.name_size_key,
        products.retailer,
        count(distinct coalesce(products.gtin14, products.retailer_product_key)) as listing_count
    from products
    left join predecessors
        on products.retailer_product_key = predecessors.retailer_product_key
    where predecessors.retailer_product_key is null
    group by products.name_size_key, products.retailer

),

gtins_per_name_size as (

    select
        name_size_key,
        count(distinct gtin14) as gtin_count,
        min(gtin14) as only_gtin14
    from products
    where gtin14 is not null
    group by name_size_key

),

name_size_stats as (

    select
        listings_per_retailer.name_size_key,
        max(listings_per_retailer.listing_count) as max_listings_per_retailer,
        max(gtins_per_name_size.gtin_count) as gtin_count,
        max(gtins_per_name_size.only_gtin14) as only_gtin14
    from listings_per_retailer
    left join gtins_per_name_size
        on listings_per_retailer.name_size_key = gtins_per_name_size.name_size_key
    group by listings_per_retailer.name_size_key

),

-- Ambiguous name + size keys (several GTINs, or several items at one
-- retailer): a listing without a GTIN pairs with a GTIN of the same key when
-- they are each other's nearest by price, within 5 %. A GTIN the listing's own
-- retailer already lists under another key is no candidate (a retailer does
-- not list one product twice at once).
gtin_candidates as (

    select
        name_size_key,
        gtin14,
        percentile_cont(0.5) within group (order by median_price) as candidate_price
    from products
    where gtin14 is not null and median_price > 0
    group by name_size_key, gtin14

),

live_gtins_per_retailer as (

    select distinct
        products.retailer,
        products.gtin14
    from products
    where products.gtin14 is not null

),

candidate_pairs as (

    select
        products.retailer_product_key,
        products.retailer,
        gtin_candidates.gtin14,
        abs(ln(products.median_price / gtin_candidates.candidate_price)) as price_distance
    from products
    inner join gtin_candidates
        on products.name_size_key = gtin_candidates.name_size_key
    left join live_gtins_per_retailer
        on
            products.retailer = live_gtins_per_retailer.retailer
            and gtin_candidates.gtin14 = live_gtins_per_retailer.gtin14
    where
        products.gtin14 is null
        and products.median_price > 0
        and live_gtins_per_retailer.gtin14 is null

),

ranked_pairs as (

    select
        *,
        row_number() over (
            partition by retailer_product_key order by price_distance asc, gtin14 asc
        ) as rank_for_listing,
        row_number() over (
            partition by retailer, gtin14 order by price_distance asc, retailer_product_key asc
        ) as rank_for_gtin
    from candidate_pairs

),

price_tie_breaks as (

    select
        retailer_product_key,
        gtin14 as nearest_gtin14,
        price_distance as nearest_distance
    from ranked_pairs
    where rank_for_listing = 1 and rank_for_gtin = 1

),

-- Each product's identity by rules 1 and 3 alone (what it would be as a chain's root).
own_identity as (

    select
        products.retailer_product_key,
        case
            when products.gtin14 is not null then 'gtin:' || products.gtin14
            when name_size_stats.max_listings_per_retailer = 1 and name_size_stats.gtin_count = 1
                then 'gtin:' || name_size_stats.only_gtin14
            when name_size_stats.max_listings_per_retailer = 1 and name_size_stats.gtin_count is null
                then 'name:' || products.name_size_key
            when {{ price_tie_break_ok() }} then 'gtin:' || price_tie_breaks.nearest_gtin14
            else 'retailer:' || products.retailer_product_key
        end as canonical_identity,
        case when products.gtin14 is not null then 'gtin' else 'name_size' end as match_method,
        case
            when products.gtin14 is not null then 0.99
            when name_size_stats.max_listings_per_retailer = 1 and name_size_stats.gtin_count = 1 then 0.90
            when name_size_stats.max_listings_per_retailer = 1 and name_size_stats.gtin_count is null then 0.80
            when {{ price_tie_break_ok() }} then 0.70
            else 0.50
        end as match_confidence
    from products
    left join name_size_stats
        on products.name_size_key = name_size_stats.name_size_key
    left join price_tie_breaks
        on products.retailer_product_key = price_tie_breaks.retailer_product_key

),

matched as (

    select
        products.*,
        coalesce(predecessors.root_retailer_product_key, products.retailer_product_key)
            as root_retailer_product_key,
        root_identity.canonical_identity,
        case
            when predecessors.retailer_product_key is not null then 'retailer_key_history'
            else root_identity.match_method
        end as match_method,
        cast(
            case
                when predecessors.retailer_product_key is not null then least(root_identity.match_confidence, 0.95)
                else root_identity.match_confidence
            end as numeric(4, 3)
        ) as match_confidence
    from products
    left join predecessors
        on products.retailer_product_key = predecessors.retailer_product_key
    inner join own_identity as root_identity
        on
            coalesce(predecessors.root_retailer_product_key, products.retailer_product_key)
            = root_identity.retailer_product_key

),

-- Product keys handed out by earlier runs (none on a full build).
previous_keys as (

    {% if is_incremental() %}
        select
            retailer_product_key,
            product_key
        from {{ this }}
    {% else %}
        select
            cast(null as text) as retailer_product_key,
            cast(null as text) as product_key
        where false
    {% endif %}

),

-- Each identity's key: the one its earliest already-keyed member holds.
identity_keys as (

    select distinct on (matched.canonical_identity)
        matched.canonical_identity,
        previous_keys.product_key
    from matched
    inner join previous_keys
        on matched.retailer_product_key = previous_keys.retailer_product_key
    order by matched.canonical_identity asc, matched.first_seen_date asc, matched.retailer_product_key asc

),

keyed as (

    select
        matched.*,
        coalesce(previous_keys.product_key, identity_keys.product_key, md5(matched.canonical_identity))
            as product_key
    from matched
    left join previous_keys
        on matched.retailer_product_key = previous_keys.retailer_product_key
    left join identity_keys
        on matched.canonical_identity = identity_keys.canonical_identity

),

final as (

    select
        product_key,
        retailer_product_key,
        retailer,
        retailer_product_id,
        product_name,
        brand,
        category_path,
        gtin,
        package_size_text,
        package_quantity,
        package_unit,
        median_price,
        first_seen_date,
        last_seen_date,
        gtin14,
        name_size_key,
        root_retailer_product_key,
        canonical_identity,
        match_method,
        match_confidence
    from keyed

)

select * from final
