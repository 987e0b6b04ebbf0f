"""Renders the catalogue as "freshmart", a chain with a paged JSON search/browse API.

Only formatting lives here; what is sold where, and at what price, comes from ``catalogue``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from scrapers.demo_market.catalogue import Catalogue, Product, Store

RETAILER = "freshmart"
MAX_PAGE_SIZE = 120
DEFAULT_PAGE_SIZE = 36

ROBOTS_TXT = b"""User-agent: *
Allow: /api/
Disallow: /checkout/
Disallow: /account/
"""


class BadRequest(Exception):
    """The request is malformed; rendered as HTTP 400 with this message."""


class NotFound(Exception):
    """The resource does not exist; rendered as HTTP 404 with this message."""


def _dumps(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


_CUP_LABELS = {"kg": "1KG", "l": "1L", "each": "1EA"}


def _cup_string(price: Decimal, product: Product) -> str:
    # float is exact enough for a 2-decimal display string, and much cheaper than Decimal division
    per_unit = float(price) / product.package_quantity
    return f"${per_unit:.2f} / {_CUP_LABELS[product.package_unit]}"


def render_stores(catalogue: Catalogue) -> bytes:
    return _dumps(
        {
            "stores": [
                {
                    "branchId": s.store_id,
                    "name": s.name,
                    "address": s.address,
                    "postcode": s.postcode,
                    "lat": s.latitude,
                    "lon": s.longitude,
                    "region": s.region,
                }
                for s in catalogue.stores()
            ]
        }
    )


def _product_record(
    catalogue: Catalogue, store: Store, product: Product, date: dt.date | None = None
) -> dict:
    store_price = catalogue.price(store, product, date)
    return {
        "stockcode": product.stockcode,
        "name": product.name,
        "brand": product.brand,
        "price": _number(store_price.price),
        "wasPrice": _number(store_price.was_price),
        "cupString": _cup_string(store_price.price, product) if store_price.price is not None else None,
        "packageSize": product.package_size_text,
        "barcode": product.barcode,
        "isInStock": store_price.in_stock,
        "categoryPath": product.category_path,
    }


def _positive_int(params: dict[str, list[str]], name: str, default: int) -> int:
    raw = params.get(name, [str(default)])[0]
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if value < 1:
        raise BadRequest(f"{name} must be >= 1, got {value}")
    return value


def render_products(
    catalogue: Catalogue,
    params: dict[str, list[str]],
    date: dt.date | None = None,
    max_page_size: int | None = None,
) -> bytes:
    """One page of the store's catalogue: ``?store=<branchId>&page=N&pageSize=M`` (page is 1-based).

    ``max_page_size`` lifts the site's cap, as the bulk/partner feeds of large chains do.
    """
    store_id = params.get("store", [None])[0]
    if not store_id:
        raise BadRequest("store is required")
    store = catalogue.store(store_id)
    if store is None:
        raise NotFound(f"unknown store {store_id!r}")
    page = _positive_int(params, "page", 1)
    page_size = min(_positive_int(params, "pageSize", DEFAULT_PAGE_SIZE), max_page_size or MAX_PAGE_SIZE)
    total = catalogue.product_count
    total_pages = (total + page_size - 1) // page_size
    start = (page - 1) * page_size
    return _dumps(
        {
            "page": page,
            "pageSize": page_size,
            "totalPages": total_pages,
            "totalResults": total,
            "products": [
                _product_record(catalogue, store, p, date)
                for p in catalogue.products(start, start + page_size, date)
            ],
        }
    )
