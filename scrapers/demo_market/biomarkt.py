"""Renders the catalogue as "biomarkt", a European shop: EUR, decimal commas, schema.org microdata.

The shape the market lacked: a Magento-style storefront (microdata ``itemscope``/``itemprop`` on
the product view, no JSON-LD), German number writing ("2,49 €", "1,5 l", "6 x 0,375 l"), and a
gzip sitemap index (``sitemap_index.xml.gz`` listing ``.xml.gz`` sitemaps). Store pages carry a
``GroceryStore`` with ``branchCode``; product pages one ``Offer`` per branch (``availableAtOrFrom``).
It is crawled by the generic schema.org spider, configured only by scrapers/registry/biomarkt.yaml.
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import re
from decimal import Decimal

from scrapers.demo_market.catalogue import Catalogue, Product, Store
from scrapers.demo_market.freshmart import NotFound

RETAILER = "biomarkt"
PREFIX = "/biomarkt"
URLS_PER_SITEMAP = 1000
_SIZE_WORDS = {"each": "1 Stück", "dozen": "12 Stück", "per kg": "je kg"}


def german_size(text: str) -> str:
    """The catalogue's size text as a German shop writes it: "1.5kg" -> "1,5 kg", "6 pack" -> "6er Pack"."""
    if text in _SIZE_WORDS:
        return _SIZE_WORDS[text]
    if match := re.fullmatch(r"(\d+) pack", text):
        return f"{match.group(1)}er Pack"
    out = re.sub(r"(\d)\.(\d)", r"\1,\2", text.replace(" bag", ""))
    out = re.sub(r"(\d)\s*(kg|g|mL|L)\b", lambda m: f"{m.group(1)} {m.group(2).lower()}", out)
    return out


def german_price(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)} | Biomarkt'
        f'</title></head><body><header><a href="{PREFIX}/">Biomarkt</a></header><main>{body}</main></body></html>'
    ).encode()


def _gzip_sitemap(tag: str, inner: str, locs: list[str]) -> bytes:
    entries = "".join(f"<{inner}><loc>{html.escape(loc)}</loc></{inner}>" for loc in locs)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</{tag}>"
    )
    return gzip.compress(xml.encode(), mtime=0)


def render_sitemap_index(catalogue: Catalogue, origin: str) -> bytes:
    count = (len(catalogue.carried(RETAILER)) + URLS_PER_SITEMAP - 1) // URLS_PER_SITEMAP
    locs = [f"{origin}{PREFIX}/media/sitemap/stores.xml.gz"] + [
        f"{origin}{PREFIX}/media/sitemap/products-{n}.xml.gz" for n in range(1, count + 1)
    ]
    return _gzip_sitemap("sitemapindex", "sitemap", locs)


def render_stores_sitemap(catalogue: Catalogue, origin: str) -> bytes:
    stores = catalogue.stores(RETAILER)
    return _gzip_sitemap("urlset", "url", [f"{origin}{PREFIX}/filiale/{s.store_id}.html" for s in stores])


def _sku(catalogue: Catalogue, product: Product) -> str:
    return catalogue.retailer_product_id(RETAILER, product)


def render_products_sitemap(catalogue: Catalogue, origin: str, number: int) -> bytes:
    carried = catalogue.carried(RETAILER)
    chunk = carried[(number - 1) * URLS_PER_SITEMAP : number * URLS_PER_SITEMAP]
    if number < 1 or not chunk:
        raise NotFound(f"no sitemap products-{number}.xml.gz")
    locs = [f"{origin}{PREFIX}/{_sku(catalogue, catalogue.product(i)).lower()}.html" for i in chunk]
    return _gzip_sitemap("urlset", "url", locs)


def _store_markup(store: Store, tag: str = "div", prop: str = "") -> str:
    street, _, locality = store.address.partition(", ")
    itemprop = f' itemprop="{prop}"' if prop else ""
    return (
        f'<{tag}{itemprop} itemscope itemtype="https://schema.org/GroceryStore">'
        f'<meta itemprop="branchCode" content="{html.escape(store.store_id)}">'
        f'<span itemprop="name">{html.escape(store.name)}</span>'
        '<span itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
        f'<span itemprop="streetAddress">{html.escape(street)}</span>, '
        f'<span itemprop="postalCode">{html.escape(store.postcode)}</span> '
        f'<span itemprop="addressLocality">{html.escape(locality)}</span>'
        f'<meta itemprop="addressRegion" content="{html.escape(store.region)}"></span>'
        '<span itemprop="geo" itemscope itemtype="https://schema.org/GeoCoordinates">'
        f'<meta itemprop="latitude" content="{store.latitude}"><meta itemprop="longitude" content="{store.longitude}">'
        f"</span></{tag}>"
    )


def render_store_page(catalogue: Catalogue, store_file: str) -> bytes:
    store = catalogue.store(store_file.removesuffix(".html"), RETAILER)
    if store is None:
        raise NotFound(f"unknown store {store_file!r}")
    return _page(store.name, _store_markup(store))


_INDEX_CACHE: dict[int, dict[str, int]] = {}


def _index_by_sku(catalogue: Catalogue) -> dict[str, int]:
    key = id(catalogue)
    if key not in _INDEX_CACHE:
        _INDEX_CACHE[key] = {
            _sku(catalogue, catalogue.product(i)).lower(): i for i in catalogue.carried(RETAILER)
        }
    return _INDEX_CACHE[key]


def render_product_page(catalogue: Catalogue, page: str, date: dt.date | None) -> bytes:
    index = _index_by_sku(catalogue).get(page.removesuffix(".html"))
    if index is None:
        raise NotFound(f"unknown product {page!r}")
    product = catalogue.product(index, date)
    sku = _sku(catalogue, product)
    size = german_size(product.package_size_text)
    name = f"{product.brand} {product.adjective} {product.noun}, {size}"
    offers = []
    for store in catalogue.stores(RETAILER):
        store_price = catalogue.price(store, product, date)
        price = "" if store_price.price is None else german_price(store_price.price)
        was = ""
        if store_price.was_price is not None:
            was = (
                '<span itemprop="priceSpecification" itemscope itemtype="https://schema.org/UnitPriceSpecification">'
                '<meta itemprop="priceType" content="https://schema.org/StrikethroughPrice">'
                f'<span class="old-price" itemprop="price" content="{german_price(store_price.was_price)}">'
                f"{german_price(store_price.was_price)} €</span></span>"
            )
        availability = "InStock" if store_price.in_stock else "OutOfStock"
        price_markup = (
            f'<span class="price" itemprop="price" content="{price}">{price} €</span>' if price else ""
        )
        offers.append(
            '<li itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
            f'{price_markup}<meta itemprop="priceCurrency" content="EUR">'
            f'<link itemprop="availability" href="https://schema.org/{availability}">{was}'
            f"{_store_markup(store, 'span', 'availableAtOrFrom')}</li>"
        )
    gtin = catalogue.retailer_gtin(RETAILER, product)
    gtin_markup = f'<meta itemprop="gtin13" content="{gtin}">' if gtin else ""
    body = (
        '<div class="product-info-main" itemscope itemtype="https://schema.org/Product">'
        f'<h1 itemprop="name">{html.escape(name)}</h1>'
        f'<div class="sku">Art.-Nr. <span itemprop="sku">{sku}</span></div>{gtin_markup}'
        f'<div itemprop="brand" itemscope itemtype="https://schema.org/Brand"><meta itemprop="name" '
        f'content="{html.escape(product.brand)}"></div>'
        f'<meta itemprop="category" content="{html.escape(product.category_path)}">'
        f'<div class="size">Inhalt: <span itemprop="size">{html.escape(size)}</span></div>'
        f'<ul class="offers">{"".join(offers)}</ul></div>'
    )
    return _page(name, body)
