-- Errors when one product_key stands for two matched identities: sticky keys
-- (an identity keeps the key of its earliest member) must never hand a key
-- to two products after a split, or dim_product would silently merge them.
select
    product_key,
    count(distinct canonical_identity) as identities
from {{ ref('int_retailer_products_matched') }}
group by product_key
having count(distinct canonical_identity) > 1
