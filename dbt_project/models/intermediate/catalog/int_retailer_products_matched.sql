{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='retailer_product_key',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} as matched where not exists ("
            ~ "select 1 from {{ ref('int_retailer_products_tracked') }} as tracked"
            ~ " where tracked.retailer_product_key = matched.retailer_product_key)",
        ],
    )
}}

-- Product matching: every retailer product gets a canonical identity, and a
-- product_key per identity (ADR 0014). Rules, strongest first:
--   1. gtin                 a valid GTIN (check digit verified) is the identity;
--   2. retailer_key_history a retailer's new key for a product it listed before
--                           (same retailer, same GTIN or same match key, the old
--                           key gone before the new one appeared) keeps the old
--                           key's identity;
--   3. name_size            the match key (brand + name words, abbreviations
--                           expanded, any order or case; quantity, unit, pack
--                           count and size form) joins the one GTIN product
--                           with that key, or forms a name identity, when no
--                           retailer lists two products under the key;
--   4. name_price           a key several products share (two GTINs, or two
--                           listings at one retailer): each listing joins the
--                           product nearest by price level-adjusted across
--                           retailers (mutual nearest, within 10 %), else
--                           stays on its own.
-- Keys are sticky: an identity keeps the product_key its earliest member was
-- given by an earlier run (facts built on earlier days carry it); a new
-- identity gets md5(identity). Every run re-matches all retailer products (a
-- table the size of the catalogue, not of the price history), and the
-- post-hook drops retailer products no longer tracked (a replaced partition
-- that no longer lists them), so the table converges.
with

tracked as (

    select * from {{ ref('int_retailer_products_tracked') }}

),

-- pack_count as the scraper's pack-size parser landed it ("2 x 6 x 330ml" is
-- 12); rows landed before raw carried the column (migration 0031) fall back
-- to reading the size text.
tracked_with_pack_count as (

    select
        *,
        coalesce(pack_count, {{ pack_count_from_size('package_size_text') }}) as resolved_pack_count
    from tracked

),

products as (

    select
        tracked_with_pack_count.*,
        -- A listing without a brand is taken as the retailer's own house brand.
        {{ product_match_words('product_name', "coalesce(nullif(trim(brand), ''), retailer)", 'package_size_text') }}
        || '|'
        || {{ product_size_key(
            'package_quantity', 'package_unit', 'package_size_text', 'resolved_pack_count'
        ) }} as match_key
    from tracked_with_pack_count

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
                or (successor.gtin14 is null and successor.match_key = predecessor.match_key)
            )
    order by
        successor.retailer_product_key asc,
        predecessor.first_seen_date asc,
        predecessor.retailer_product_key asc

),

-- Products that are their own root (re-keyed listings follow their root).
roots as (

    select products.*
    from products
    left join predecessors
        on products.retailer_product_key = predecessors.retailer_product_key
    where predecessors.retailer_product_key is null and products.median_price > 0

),

-- Each retailer's price level against the others, from products matched by
-- GTIN at several retailers: prices of one product at two retailers compare
-- only after this (a dearer chain is dearer on everything).
gtin_reference_prices as (

    select
        gtin14,
        avg(ln(median_price)) as mean_log_price
    from roots
    where gtin14 is not null
    group by gtin14
    having count(distinct retailer) >= 2

),

retailer_price_levels as (

    select
        roots.retailer,
        percentile_cont(0.5) within group (
            order by ln(roots.median_price) - gtin_reference_prices.mean_log_price
        ) as log_price_level
    from roots
    inner join gtin_reference_prices
        on roots.gtin14 = gtin_reference_prices.gtin14
    group by roots.retailer

),

leveled as (

    select
        roots.*,
        ln(roots.median_price) - coalesce(retailer_price_levels.log_price_level, 0) as log_price
    from roots
    left join retailer_price_levels
        on roots.retailer = retailer_price_levels.retailer

),

-- Per match key: the GTIN products under it, at their level-adjusted price.
key_gtins as (

    select
        match_key,
        gtin14,
        avg(log_price) as log_price
    from leveled
    where gtin14 is not null
    group by match_key, gtin14

),

key_listing_counts as (

    select
        match_key,
        retailer,
        count(*) as listing_count
    from leveled
    group by match_key, retailer

),

key_gtin_counts as (

    select
        match_key,
        count(*) as gtin_count
    from key_gtins
    group by match_key

),

key_stats as (

    select
        key_listing_counts.match_key,
        max(key_listing_counts.listing_count) as max_listings_per_retailer,
        max(key_gtin_counts.gtin_count) as gtin_count
    from key_listing_counts
    left join key_gtin_counts
        on key_listing_counts.match_key = key_gtin_counts.match_key
    group by key_listing_counts.match_key

),

gtins_per_retailer as (

    select distinct
        retailer,
        gtin14
    from leveled
    where gtin14 is not null

),

-- Rules 3-4 with a GTIN: a listing without one joins a GTIN product of its key
-- that its own retailer does not list already, nearest by price, mutually.
key_gtin_candidates as (

    select
        leveled.retailer_product_key,
        leveled.retailer,
        leveled.match_key,
        leveled.log_price as listing_log_price,
        key_gtins.gtin14,
        key_gtins.log_price as gtin_log_price,
        abs(leveled.log_price - key_gtins.log_price) as price_distance,
        key_stats.max_listings_per_retailer = 1 and key_stats.gtin_count = 1 as is_unambiguous
    from leveled
    inner join key_gtins
        on leveled.match_key = key_gtins.match_key
    inner join key_stats
        on leveled.match_key = key_stats.match_key
    left join gtins_per_retailer
        on
            leveled.retailer = gtins_per_retailer.retailer
            and key_gtins.gtin14 = gtins_per_retailer.gtin14
    where leveled.gtin14 is null and gtins_per_retailer.gtin14 is null

),

-- A listing without a GTIN at a retailer that already lists every GTIN product
-- of its key can be none of them: it proves the key also holds a product with
-- no GTIN, at that listing's price.
gtinless_products as (

    select
        leveled.match_key,
        leveled.retailer,
        leveled.log_price
    from leveled
    left join key_gtin_candidates
        on leveled.retailer_product_key = key_gtin_candidates.retailer_product_key
    -- (under a key with no GTIN product these compete with nothing: no listing has a candidate)
    where leveled.gtin14 is null and key_gtin_candidates.retailer_product_key is null

),

-- So another retailer's listing joins a GTIN product only when no such
-- product of its key is nearer to it by price: otherwise it is left to the
-- name rules below, which put it with that product.
gtin_candidates as (

    select key_gtin_candidates.*
    from key_gtin_candidates
    where not exists (
        select 1
        from gtinless_products
        where
            gtinless_products.match_key = key_gtin_candidates.match_key
            and gtinless_products.retailer <> key_gtin_candidates.retailer
            and abs(gtinless_products.log_price - key_gtin_candidates.listing_log_price)
            < key_gtin_candidates.price_distance
    )

),

-- When a retailer lists as many such listings under a key as there are GTIN
-- products it could be, they pair in price order (the cheapest with the
-- cheapest): robust where nearest-price pairs would collide. Otherwise each
-- listing takes its nearest GTIN product when that product's nearest listing
-- at this retailer is it (mutual nearest).
candidate_ranks as (

    select
        *,
        dense_rank() over (
            partition by match_key, retailer order by listing_log_price asc, retailer_product_key asc
        ) as listing_price_rank,
        dense_rank() over (partition by match_key, retailer order by gtin_log_price asc, gtin14 asc)
            as gtin_price_rank,
        row_number() over (
            partition by retailer_product_key order by price_distance asc, gtin14 asc
        ) as rank_for_listing,
        row_number() over (
            partition by retailer, gtin14 order by price_distance asc, retailer_product_key asc
        ) as rank_for_gtin
    from gtin_candidates

),

candidate_counts as (

    select
        match_key,
        retailer,
        count(distinct retailer_product_key) as listing_count,
        count(distinct gtin14) as gtin_count
    from gtin_candidates
    group by match_key, retailer

),

gtin_joins as (

    select
        candidate_ranks.retailer_product_key,
        candidate_ranks.gtin14,
        candidate_ranks.price_distance,
        candidate_ranks.is_unambiguous
    from candidate_ranks
    inner join candidate_counts
        on
            candidate_ranks.match_key = candidate_counts.match_key
            and candidate_ranks.retailer = candidate_counts.retailer
    where
        case
            when candidate_counts.listing_count = candidate_counts.gtin_count
                then candidate_ranks.listing_price_rank = candidate_ranks.gtin_price_rank
            else candidate_ranks.rank_for_listing = 1 and candidate_ranks.rank_for_gtin = 1
        end
        and candidate_ranks.price_distance
        <= case when candidate_ranks.is_unambiguous then ln(1.25) else ln(1.15) end

),

-- Listings left without a GTIN identity.
name_only as (

    select leveled.*
    from leveled
    left join gtin_joins
        on leveled.retailer_product_key = gtin_joins.retailer_product_key
    where leveled.gtin14 is null and gtin_joins.retailer_product_key is null

),

name_only_counts as (

    select
        match_key,
        retailer,
        count(*) as listing_count
    from name_only
    group by match_key, retailer

),

-- Per key, the retailer listing the most of these (ties: by name): its
-- listings are the anchors the other retailers' listings join by price.
anchor_retailers as (

    select distinct on (match_key)
        match_key,
        retailer as anchor_retailer,
        max(listing_count) over (partition by match_key) as max_listings_per_retailer
    from name_only_counts
    order by match_key asc, listing_count desc, retailer asc

),

anchor_candidates as (

    select
        listing.retailer_product_key,
        listing.retailer,
        anchor.retailer_product_key as anchor_key,
        abs(listing.log_price - anchor.log_price) as price_distance
    from name_only as listing
    inner join anchor_retailers
        on listing.match_key = anchor_retailers.match_key
    inner join name_only as anchor
        on
            anchor_retailers.match_key = anchor.match_key
            and anchor_retailers.anchor_retailer = anchor.retailer
    where
        anchor_retailers.max_listings_per_retailer > 1
        and listing.retailer <> anchor_retailers.anchor_retailer

),

anchor_joins as (

    select
        retailer_product_key,
        anchor_key,
        price_distance
    from (
        select
            *,
            row_number() over (
                partition by retailer_product_key order by price_distance asc, anchor_key asc
            ) as rank_for_listing,
            row_number() over (
                partition by retailer, anchor_key order by price_distance asc, retailer_product_key asc
            ) as rank_for_anchor
        from anchor_candidates
    ) as ranked
    where rank_for_listing = 1 and rank_for_anchor = 1 and price_distance <= ln(1.10)

),

-- Each root's identity, method and confidence by rules 1, 3 and 4. The
-- confidences are the share of matches of that kind found right against the
-- demo market's ground truth (tests/dbt/test_matching_quality.py measures it).
own_identity as (

    select
        products.retailer_product_key,
        case
            when products.gtin14 is not null then 'gtin:' || products.gtin14
            when gtin_joins.gtin14 is not null then 'gtin:' || gtin_joins.gtin14
            when anchor_retailers.max_listings_per_retailer = 1 then 'name:' || products.match_key
            when anchor_retailers.anchor_retailer = products.retailer
                then 'name:' || products.match_key || '@' || products.retailer_product_key
            when anchor_joins.anchor_key is not null
                then 'name:' || products.match_key || '@' || anchor_joins.anchor_key
            else 'retailer:' || products.retailer_product_key
        end as canonical_identity,
        case
            when products.gtin14 is not null then 'gtin'
            when gtin_joins.is_unambiguous then 'name_size'
            when gtin_joins.gtin14 is not null then 'name_price'
            when anchor_retailers.max_listings_per_retailer = 1 then 'name_size'
            else 'name_price'
        end as match_method,
        case
            when products.gtin14 is not null then {{ var('match_confidence_gtin', 0.99) }}
            when gtin_joins.is_unambiguous then {{ var('match_confidence_name_size_gtin', 0.99) }}
            when gtin_joins.gtin14 is not null then {{ var('match_confidence_name_price_gtin', 0.90) }}
            when anchor_retailers.max_listings_per_retailer = 1 then {{ var('match_confidence_name_size', 0.90) }}
            when anchor_joins.anchor_key is not null or anchor_retailers.anchor_retailer = products.retailer
                then {{ var('match_confidence_name_price', 0.70) }}
            else {{ var('match_confidence_unmatched', 0.40) }}
        end as match_confidence
    from products
    left join gtin_joins
        on products.retailer_product_key = gtin_joins.retailer_product_key
    left join anchor_retailers
        on products.match_key = anchor_retailers.match_key
    left join anchor_joins
        on products.retailer_product_key = anchor_joins.retailer_product_key

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

-- Each identity's earlier key: the key made for it (md5 of it) when a member
-- still holds that, else the one its earliest already-keyed member held.
identity_previous_keys as (

    select distinct on (matched.canonical_identity)
        matched.canonical_identity,
        previous_keys.product_key,
        matched.first_seen_date,
        matched.retailer_product_key
    from matched
    inner join previous_keys
        on matched.retailer_product_key = previous_keys.retailer_product_key
    order by
        matched.canonical_identity asc,
        previous_keys.product_key = md5(matched.canonical_identity) desc,
        matched.first_seen_date asc,
        matched.retailer_product_key asc

),

-- A key goes to one identity only: when a product splits, the identity the
-- key was first made for (md5 of it) keeps it; failing that, the part holding
-- the earliest member does. The other part gets a new key.
identity_keys as (

    select
        canonical_identity,
        product_key
    from (
        select
            *,
            row_number() over (
                partition by product_key
                order by
                    product_key = md5(canonical_identity) desc,
                    first_seen_date asc,
                    retailer_product_key asc
            ) as claim_rank
        from identity_previous_keys
    ) as claims
    where claim_rank = 1

),

-- A new key is md5(identity), unless another identity kept that very key
-- (its members once belonged to this identity): then a key derived from it.
keyed as (

    select
        matched.*,
        coalesce(
            identity_keys.product_key,
            case
                when
                    exists (
                        select 1
                        from identity_keys as kept
                        where kept.product_key = md5(matched.canonical_identity)
                    )
                    then md5(matched.canonical_identity || '|split')
                else md5(matched.canonical_identity)
            end
        ) as product_key
    from matched
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
        resolved_pack_count as pack_count,
        median_price,
        first_seen_date,
        last_seen_date,
        gtin14,
        name_size_key,
        match_key,
        root_retailer_product_key,
        canonical_identity,
        match_method,
        match_confidence
    from keyed

)

select * from final
