"""biomarkt, the fourth demo retailer: a registry entry only, read by the generic schema.org spider."""

from __future__ import annotations

import datetime as dt
import gzip

from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.sitemap import Sitemap
from scrapy.utils.test import get_crawler

from scrapers.demo_market import biomarkt
from scrapers.demo_market.catalogue import Catalogue
from scrapers.items import PriceObservation, Store
from scrapers.pipelines.pack_size import PackSizePipeline
from scrapers.pipelines.price import PricePipeline
from scrapers.registry import get_retailer
from scrapers.spiders.base import SitemapJsonLdSpider
from scrapers.spiders.loader import spider_class

DAY = dt.date(2026, 11, 22)
BASE = "http://127.0.0.1:8765"


def _spider():
    cls = spider_class(get_retailer("biomarkt"))
    crawler = get_crawler(cls)
    return cls.from_crawler(crawler, base_url=f"{BASE}/biomarkt/sitemap_index.xml.gz",
                            scrape_date=DAY.isoformat(), run_id="bm")  # fmt: skip


def test_biomarkt_is_only_a_registry_entry():
    entry = get_retailer("biomarkt")
    assert (entry.format, entry.currency, entry.decimal_separator, entry.country) == (
        "schema_org_sitemap",
        "EUR",
        ",",
        "DE",
    )
    assert issubclass(spider_class(entry), SitemapJsonLdSpider)


def test_sitemaps_are_gzip_files_listing_gzip_sitemaps():
    catalogue = Catalogue(seed=42, products=50, stores=2, date=DAY)
    index = Sitemap(gzip.decompress(biomarkt.render_sitemap_index(catalogue, BASE)))
    assert index.type == "sitemapindex"
    assert all(entry["loc"].endswith(".xml.gz") for entry in index)
    products = Sitemap(gzip.decompress(biomarkt.render_products_sitemap(catalogue, BASE, 1)))
    assert len(list(products)) == len(catalogue.carried("biomarkt"))


def test_microdata_offers_with_decimal_commas_read_as_the_catalogue_priced_them():
    catalogue = Catalogue(seed=42, products=50, stores=2, date=DAY)
    spider = _spider()
    pipeline, sizes = PricePipeline(default_currency="EUR", decimal_separator=","), PackSizePipeline()
    checked = 0
    for index in catalogue.carried("biomarkt")[:15]:
        product = catalogue.product(index, DAY)
        sku = catalogue.retailer_product_id("biomarkt", product)
        url = f"{BASE}/biomarkt/{sku.lower()}.html"
        body = biomarkt.render_product_page(catalogue, f"{sku.lower()}.html", DAY)
        response = HtmlResponse(url=url, body=body, encoding="utf-8", request=Request(url))
        items = [i for i in spider.parse_page(response) if isinstance(i, PriceObservation)]
        assert [i.store_id for i in items] == [s.store_id for s in catalogue.stores("biomarkt")]
        for item, store in zip(items, catalogue.stores("biomarkt"), strict=True):
            truth = catalogue.price(store, product, DAY)
            if truth.price is None:
                continue
            item = sizes.process_item(pipeline.process_item(item))
            assert item.reject_reason is None, item.reject_reason
            assert (item.price, item.currency, item.retailer_product_id) == (truth.price, "EUR", sku)
            assert item.was_price == truth.was_price and item.package_unit in ("kg", "l", "each")
            checked += 1
    assert checked > 10


def test_store_pages_are_microdata_grocery_stores():
    catalogue = Catalogue(seed=42, products=20, stores=2, date=DAY)
    store = catalogue.stores("biomarkt")[0]
    url = f"{BASE}/biomarkt/filiale/{store.store_id}.html"
    body = biomarkt.render_store_page(catalogue, f"{store.store_id}.html")
    response: Response = HtmlResponse(url=url, body=body, encoding="utf-8", request=Request(url))
    (item,) = list(_spider().parse_page(response))
    assert isinstance(item, Store)
    assert (item.store_id, item.store_name, item.postcode) == (store.store_id, store.name, store.postcode)
