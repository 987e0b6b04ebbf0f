"""Renders the catalogue as "cornershop", a plain HTML shop found through ``sitemap.xml``.

The format thousands of real shops use: a sitemap index lists store pages and product pages;
store pages carry schema.org ``GroceryStore`` JSON-LD; product pages carry schema.org ``Product``
JSON-LD with one ``Offer`` per branch (``availableAtOrFrom``), the was-price as a
``StrikethroughPrice`` ``UnitPriceSpecification``, as Google's merchant guidelines describe.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any

from scrapers.demo_market.catalogue import Catalogue, Product, Store
from scrapers.demo_market.freshmart import NotFound

RETAILER = "cornershop"
PREFIX = "/cornershop"
URLS_PER_SITEMAP = 1000


def _page(title: str, json_ld: list[dict[str, Any]], body: str) -> bytes:
    scripts = "".join(
        '<script type="application/ld+json">'
        + json.dumps(doc, ensure_ascii=False, indent=1).replace("</", "<\\/")
        + "</script>"
        for doc in json_ld
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)} - Corner Shop</title>'
        f'{scripts}</head><body><header><a href="{PREFIX}/">Corner Shop</a></header><main>{body}</main></body></html>'
    ).encode()


def _sitemap(tag: str, inner: str, locs: list[str]) -> bytes:
    entries = "".join(f"<{inner}><loc>{html.escape(loc)}</loc></{inner}>" for loc in locs)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</{tag}>"
    ).encode()


def render_sitemap_index(catalogue: Catalogue, origin: str) -> bytes:
    count = (len(catalogue.carried(RETAILER)) + URLS_PER_SITEMAP - 1) // URLS_PER_SITEMAP
    locs = [f"{origin}{PREFIX}/sitemaps/stores.xml"] + [
        f"{origin}{PREFIX}/sitemaps/products-{n}.xml" for n in range(1, count + 1)
    ]
    return _sitemap("sitemapindex", "sitemap", locs)


def render_stores_sitemap(catalogue: Catalogue, origin: str) -> bytes:
    return _sitemap(
        "urlset", "url", [f"{origin}{PREFIX}/stores/{s.store_id}" for s in catalogue.stores(RETAILER)]
    )


def _sku(catalogue: Catalogue, product: Product) -> str:
    return catalogue.retailer_product_id(RETAILER, product)


def _slug(product: Product) -> str:
    return f"{product.adjective} {product.noun}".lower().replace(" ", "-").replace("'", "")


def render_products_sitemap(catalogue: Catalogue, origin: str, number: int) -> bytes:
    carried = catalogue.carried(RETAILER)
    chunk = carried[(number - 1) * URLS_PER_SITEMAP : number * URLS_PER_SITEMAP]
    if number < 1 or not chunk:
        raise NotFound(f"no sitemap products-{number}.xml")
    locs = []
    for index in chunk:
        product = catalogue.product(index)
        locs.append(f"{origin}{PREFIX}/products/{_slug(product)}-{_sku(catalogue, product)}")
    return _sitemap("urlset", "url", locs)


def _store_ld(store: Store) -> dict[str, Any]:
    street, _, locality = store.address.partition(", ")
    return {
        "@context": "https://schema.org",
        "@type": "GroceryStore",
        "@id": f"{PREFIX}/stores/{store.store_id}",
        "branchCode": store.store_id,
        "name": store.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": street,
            "addressLocality": locality.rsplit(" ", 1)[0],
            "addressRegion": store.region,
            "postalCode": store.postcode,
            "addressCountry": "AU",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": store.latitude, "longitude": store.longitude},
    }


def render_store_page(catalogue: Catalogue, store_id: str) -> bytes:
    store = catalogue.store(store_id, RETAILER)
    if store is None:
        raise NotFound(f"unknown store {store_id!r}")
    return _page(
        store.name,
        [_store_ld(store)],
        f"<h1>{html.escape(store.name)}</h1><p>{html.escape(store.address)}</p>",
    )


_INDEX_CACHE: dict[int, dict[str, int]] = {}


def _index_by_sku(catalogue: Catalogue) -> dict[str, int]:
    key = id(catalogue)
    if key not in _INDEX_CACHE:
        _INDEX_CACHE[key] = {_sku(catalogue, catalogue.product(i)): i for i in catalogue.carried(RETAILER)}
    return _INDEX_CACHE[key]


def product_document(catalogue: Catalogue, slug_sku: str, date: dt.date | None) -> dict[str, Any]:
    sku = slug_sku.rsplit("-", 1)[-1]
    index = _index_by_sku(catalogue).get(sku)
    if index is None:
        raise NotFound(f"unknown product {slug_sku!r}")
    product = catalogue.product(index, date)
    offers = []
    for store in catalogue.stores(RETAILER):
        store_price = catalogue.price(store, product, date)
        offer: dict[str, Any] = {
            "@type": "Offer",
            "price": None if store_price.price is None else f"{store_price.price:.2f}",
            "priceCurrency": "AUD",
            "availability": "https://schema.org/" + ("InStock" if store_price.in_stock else "OutOfStock"),
            "availableAtOrFrom": {"@type": "GroceryStore", "branchCode": store.store_id, "name": store.name},
        }
        if store_price.was_price is not None:
            offer["priceSpecification"] = [
                {
                    "@type": "UnitPriceSpecification",
                    "priceType": "https://schema.org/StrikethroughPrice",
                    "price": f"{store_price.was_price:.2f}",
                    "priceCurrency": "AUD",
                }
            ]
        offers.append(offer)
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"{product.adjective} {product.noun} {product.package_size_text} - {product.brand}",
        "sku": sku,
        "brand": {"@type": "Brand", "name": product.brand},
        "category": product.category_path.replace(" > ", " / "),
        "size": product.package_size_text,
        "offers": offers,
    }
    gtin = catalogue.retailer_gtin(RETAILER, product)
    if gtin:
        document["gtin13"] = gtin
    return document


def render_product_page(document: dict[str, Any]) -> bytes:
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Home"}],
    }
    return _page(document["name"], [crumbs, document], f"<h1>{html.escape(document['name'])}</h1>")
