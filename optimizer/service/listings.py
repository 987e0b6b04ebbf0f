"""Catalog listings the shopper's page and apps need: retailers, stores near a postcode, and cheaper
alternatives of a product. Read-only SQL over the catalog mart (dim_store, dim_product,
fct_current_prices); distances use the optimizer's own postcode centroids (``optimizer.geo``).

Alternatives (seed 001's recommendations): products of the *same canonical category*
(dim_product.category_path), sold in the *same unit* with a *comparable size* (between
``SIZE_RATIO`` and 1/``SIZE_RATIO`` of the original), whose lowest current unit price is *lower*.
Confidence: how alike the sizes are (60 %) and the names are (40 %, rapidfuzz token-set ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg
from rapidfuzz import fuzz

from optimizer.geo import PostcodeCentroids, haversine_km
from optimizer.service.models import Alternative, AlternativesResponse, StoreListing, to_money

SIZE_RATIO = 0.5
MAX_ALTERNATIVES = 10

STORES_SQL = """
select store_key, retailer, store_id, store_name, postcode::text, region,
       latitude::float8, longitude::float8
from catalog.dim_store
order by retailer, store_name, store_key
"""

RETAILERS_SQL = """
select retailer, count(*)::int as stores,
       coalesce(array_agg(distinct region order by region) filter (where region is not null), '{}')
from catalog.dim_store
group by retailer
order by retailer
"""

# Lowest current unit price per product of the original's category and unit (the original included).
UNIT_PRICES_SQL = """
with original as (
    select category_path, package_unit from catalog.dim_product where product_key = %(key)s
)
select p.product_key, p.product_name, p.brand, p.package_size_text, p.package_unit,
       p.package_quantity::float8,
       min(coalesce(f.unit_price, f.price / nullif(coalesce(f.package_quantity, p.package_quantity), 0))),
       min(f.price)
from catalog.dim_product as p
inner join original on p.category_path = original.category_path and p.package_unit = original.package_unit
inner join catalog.fct_current_prices as f on f.product_key = p.product_key
group by p.product_key, p.product_name, p.brand, p.package_size_text, p.package_unit, p.package_quantity
"""


class ListingError(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def retailers(conn: psycopg.Connection) -> list[dict]:
    return [
        {"retailer": r, "stores": n, "regions": list(regions)}
        for r, n, regions in conn.execute(RETAILERS_SQL)
    ]


def stores_near(
    conn: psycopg.Connection,
    postcode: str | None = None,
    radius_km: float | None = None,
    retailer: list[str] | None = None,
) -> list[StoreListing]:
    """Stores, nearest first when a postcode is given; unknown postcode or retailer is an error."""
    rows = [
        StoreListing(**dict(zip(StoreListing.model_fields, row, strict=False)))
        for row in conn.execute(STORES_SQL)
    ]
    if retailer:
        wanted = {r.lower() for r in retailer}
        known = {s.retailer.lower() for s in rows}
        missing = sorted(wanted - known)
        if missing:
            raise ListingError(
                f"unknown retailer(s): {', '.join(missing)}; known: {', '.join(sorted(known)) or 'none'}",
                "unknown_retailers",
            )
        rows = [s for s in rows if s.retailer.lower() in wanted]
    if postcode is None:
        return rows
    centroids = PostcodeCentroids.from_stores((s.postcode, s.latitude, s.longitude) for s in rows)
    origin = centroids.locate(postcode)
    if origin is None:
        raise ListingError(
            f"postcode {postcode!r} is not known: no catalog store shares it or its first two characters",
            "unknown_postcode",
        )
    for store in rows:
        if store.latitude is not None and store.longitude is not None:
            store.distance_km = round(haversine_km(*origin, store.latitude, store.longitude), 2)
    if radius_km is not None:
        rows = [s for s in rows if s.distance_km is not None and s.distance_km <= radius_km]
    return sorted(rows, key=lambda s: (s.distance_km is None, s.distance_km or 0.0, s.store_key))


@dataclass(frozen=True)
class _Priced:
    product_key: str
    product_name: str
    brand: str | None
    size: str | None
    package_unit: str | None
    package_quantity: float | None
    unit_price: Decimal | None
    price_min: Decimal | None


def alternatives(conn: psycopg.Connection, product_key: str) -> AlternativesResponse:
    """Cheaper comparable products (see the module docstring); unknown product is an error."""
    product = conn.execute(
        "select product_key, product_name, category_path, package_unit, package_quantity::float8"
        " from catalog.dim_product where product_key = %s",
        (product_key,),
    ).fetchone()
    if product is None:
        raise ListingError(
            f"unknown product id {product_key[:80]!r}: use a product_key from /api/products/search",
            "unknown_product",
        )
    _, name, category, unit, quantity = product
    priced = {row[0]: _Priced(*row) for row in conn.execute(UNIT_PRICES_SQL, {"key": product_key})}
    original = priced.get(product_key)
    response = AlternativesResponse(
        product_key=product_key,
        product_name=name,
        category_path=category,
        unit_price=to_money(original.unit_price) if original and original.unit_price is not None else None,
        package_unit=unit,
        alternatives=[],
    )
    if original is None or original.unit_price is None or not quantity or category is None:
        return response  # no current unit price (or no category, size) to compare against
    found: list[Alternative] = []
    for candidate in priced.values():
        if candidate.product_key == product_key or candidate.unit_price is None:
            continue
        if not candidate.package_quantity or candidate.price_min is None:
            continue
        ratio = min(candidate.package_quantity, quantity) / max(candidate.package_quantity, quantity)
        if ratio < SIZE_RATIO or candidate.unit_price >= original.unit_price:
            continue
        saving = Decimal(original.unit_price) - Decimal(candidate.unit_price)
        cheaper_pct = float(saving / Decimal(original.unit_price)) * 100
        size_score = (ratio - SIZE_RATIO) / (1 - SIZE_RATIO)
        name_score = fuzz.token_set_ratio(name or "", candidate.product_name or "") / 100
        found.append(
            Alternative(
                product_key=candidate.product_key,
                product_name=candidate.product_name,
                brand=candidate.brand,
                size=candidate.size,
                unit_price=to_money(candidate.unit_price),
                package_unit=candidate.package_unit,
                price_min=to_money(candidate.price_min),
                saving_per_unit=to_money(saving),
                reason=(
                    f"same category ({category}), {candidate.size or candidate.package_quantity} against "
                    f"{original.size or quantity}: {to_money(candidate.unit_price)} per {unit} instead of "
                    f"{to_money(original.unit_price)} ({cheaper_pct:.0f}% cheaper per {unit})"
                ),
                confidence=round(0.6 * size_score + 0.4 * name_score, 2),
            )
        )
    found.sort(key=lambda a: (-a.confidence, a.unit_price, a.product_key))
    response.alternatives = found[:MAX_ALTERNATIVES]
    return response
