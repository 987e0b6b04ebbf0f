"""Renders the catalogue as "nextmart", a Next.js storefront.

Like real Next.js sites, every page is HTML whose data sits in
``<script id="__NEXT_DATA__" type="application/json">``; client navigation fetches the same
``pageProps`` from ``/_next/data/<buildId>/...json`` (which large chains let through in big pages);
product pages carry schema.org ``Product`` JSON-LD with ``gtin13``. Only formatting lives here.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from decimal import Decimal
from typing import Any

from scrapers.demo_market.catalogue import Catalogue, Product, Store
from scrapers.demo_market.freshmart import BadRequest, NotFound, _positive_int

RETAILER = "nextmart"
BUILD_ID = "nm-build-7f3a2c"
DEFAULT_PAGE_SIZE = 24
MAX_PAGE_SIZE = 48  # the HTML listing; the _next/data route allows bulk pages
MAX_DATA_PAGE_SIZE = 5000


def _dumps(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _html(
    title: str, next_data: dict[str, Any] | None = None, json_ld: dict[str, Any] | None = None
) -> bytes:
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)} | NextMart</title>",
    ]
    if json_ld is not None:
        # "</" must not end the script early: escape it as JSON allows.
        parts.append(
            '<script type="application/ld+json">' + _dumps(json_ld).replace("</", "<\\/") + "</script>"
        )
    parts.append(f'</head><body><div id="__next"><h1>{html.escape(title)}</h1></div>')
    if next_data is not None:
        parts.append(
            '<script id="__NEXT_DATA__" type="application/json">'
            + _dumps(next_data).replace("</", "<\\/")
            + "</script>"
        )
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


def _next_data(page: str, query: dict[str, Any], page_props: dict[str, Any]) -> dict[str, Any]:
    return {
        "props": {"pageProps": page_props, "__N_SSP": True},
        "page": page,
        "query": query,
        "buildId": BUILD_ID,
        "isFallback": False,
        "gssp": True,
    }


def _store_record(store: Store) -> dict[str, Any]:
    street, _, locality = store.address.partition(", ")
    return {
        "id": store.store_id,
        "displayName": store.name,
        "address": {"line1": street, "suburb": locality, "postcode": store.postcode, "state": store.region},
        "geo": {"lat": store.latitude, "lng": store.longitude},
    }


def render_stores_page(catalogue: Catalogue) -> bytes:
    stores = [_store_record(s) for s in catalogue.stores(RETAILER)]
    return _html("Find a store", _next_data("/stores", {}, {"stores": stores}))


def _money_text(value: Decimal) -> str:
    return f"${value:.2f}"


def _unit_text(price: Decimal, product: Product) -> str:
    per_unit = price / Decimal(str(product.package_quantity))
    return f"${per_unit:.2f} per {dict(kg='kg', l='L', each='ea')[product.package_unit]}"


def _listing_record(catalogue: Catalogue, store: Store, product: Product, date: dt.date | None) -> dict:
    store_price = catalogue.price(store, product, date)
    price = store_price.price
    return {
        "id": catalogue.retailer_product_id(RETAILER, product),
        "slug": f"{product.brand} {product.adjective} {product.noun}".lower()
        .replace(" ", "-")
        .replace("'", ""),
        "name": f"{product.brand} {product.adjective} {product.noun}",
        "brand": product.brand,
        "size": product.package_size_text,
        "pricing": {
            "now": None if price is None else float(price),
            "was": None if store_price.was_price is None else float(store_price.was_price),
            "unit": None if price is None else _unit_text(price, product),
        },
        "availability": "IN_STOCK" if store_price.in_stock else "OUT_OF_STOCK",
        "category": product.category_path.split(" > ")[-1],
    }


def listing_props(
    catalogue: Catalogue, store_id: str, params: dict[str, list[str]], date: dt.date | None, data_route: bool
) -> dict[str, Any]:
    store = catalogue.store(store_id, RETAILER)
    if store is None:
        raise NotFound(f"unknown store {store_id!r}")
    page = _positive_int(params, "page", 1)
    cap = MAX_DATA_PAGE_SIZE if data_route else MAX_PAGE_SIZE
    page_size = min(_positive_int(params, "pageSize", DEFAULT_PAGE_SIZE), cap)
    carried = catalogue.carried(RETAILER)
    total = len(carried)
    start = (page - 1) * page_size
    products = [
        _listing_record(catalogue, store, catalogue.product(i, date), date)
        for i in carried[start : start + page_size]
    ]
    return {
        "store": {"id": store.store_id, "name": store.name},
        "products": products,
        "pagination": {
            "page": page,
            "pageSize": page_size,
            "totalPages": max(1, (total + page_size - 1) // page_size),
            "total": total,
        },
    }


def render_listing_page(props: dict[str, Any], store_id: str) -> bytes:
    query = {"storeId": store_id, "page": str(props["pagination"]["page"])}
    return _html(f"Shop at {props['store']['name']}", _next_data("/browse/[storeId]", query, props))


def render_listing_data(props: dict[str, Any]) -> bytes:
    return _dumps({"pageProps": props, "__N_SSP": True}).encode("utf-8")


def render_product_page(catalogue: Catalogue, product_id: str, date: dt.date | None) -> bytes:
    index = _index_by_id(catalogue).get(product_id)
    if index is None:
        raise NotFound(f"unknown product {product_id!r}")
    product = catalogue.product(index, date)
    gtin = catalogue.retailer_gtin(RETAILER, product)
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"{product.brand} {product.adjective} {product.noun}",
        "sku": product_id,
        "brand": {"@type": "Brand", "name": product.brand},
        "category": product.category_path,
        "size": product.package_size_text,
    }
    if gtin:
        json_ld["gtin13"] = gtin
    props = {"product": {"id": product_id, "name": json_ld["name"], "size": product.package_size_text}}
    return _html(json_ld["name"], _next_data("/product/[id]", {"id": product_id}, props), json_ld)


_INDEX_CACHE: dict[int, dict[str, int]] = {}


def _index_by_id(catalogue: Catalogue) -> dict[str, int]:
    key = id(catalogue)
    if key not in _INDEX_CACHE:
        _INDEX_CACHE[key] = {
            catalogue.retailer_product_id(RETAILER, catalogue.product(i)): i
            for i in catalogue.carried(RETAILER)
        }
    return _INDEX_CACHE[key]


__all__ = ["BadRequest", "NotFound", "render_listing_data", "render_listing_page", "render_product_page",
           "render_stores_page", "listing_props"]  # fmt: skip
