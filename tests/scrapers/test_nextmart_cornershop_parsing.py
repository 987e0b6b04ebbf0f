"""The Next.js and sitemap/JSON-LD spiders against saved demo-market responses
(seed 42, 200 products, 3 stores, 2026-11-22; regenerate with the snippet in the report)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from scrapers.items import PriceObservation, RejectedPage, Store
from scrapers.registry import get_retailer
from scrapers.spiders.base import DATE_HEADER, PageParseError, json_ld_documents, next_data
from scrapers.spiders.loader import spider_class

DATA = Path(__file__).parent / "data"
NextmartSpider = spider_class(get_retailer("nextmart"))
CornershopSpider = spider_class(get_retailer("cornershop"))
BASE = "http://127.0.0.1:8765"


def spider_of(cls, base_url):
    crawler = get_crawler(cls)
    return cls.from_crawler(crawler, base_url=base_url, scrape_date="2026-11-22", run_id="run-1")


def html(name: str, url: str, meta: dict | None = None) -> HtmlResponse:
    request = Request(url, meta=meta or {})
    return HtmlResponse(url=url, body=(DATA / name).read_bytes(), encoding="utf-8", request=request)


@pytest.fixture
def nextmart() -> NextmartSpider:
    return spider_of(NextmartSpider, f"{BASE}/nextmart")


@pytest.fixture
def cornershop() -> CornershopSpider:
    return spider_of(CornershopSpider, f"{BASE}/cornershop/sitemap.xml")


# --- nextmart -------------------------------------------------------------------------
def test_nextmart_store_locator_yields_stores_and_listing_requests(nextmart):
    output = list(nextmart.parse_stores(html("nextmart_stores.html", f"{BASE}/nextmart/stores")))
    stores = [o for o in output if isinstance(o, Store)]
    requests = [o for o in output if isinstance(o, Request)]
    assert [s.store_id for s in stores] == ["NM101", "NM102", "NM103"]
    first = stores[0]
    assert first.store_name.startswith("NextMart ") and first.postcode and first.region
    assert -90 <= first.latitude <= 90 and -180 <= first.longitude <= 180
    assert requests[0].url == f"{BASE}/nextmart/browse/NM101?page=1&pageSize=48"
    assert requests[0].headers[DATE_HEADER] == b"2026-11-22"  # the demo market's time machine
    assert nextmart.build_id == "nm-build-7f3a2c"


def test_nextmart_listing_waits_for_the_product_page_then_carries_its_gtin(nextmart):
    url = f"{BASE}/nextmart/browse/NM101?page=1&pageSize=48"
    output = list(nextmart.parse_listing(html("nextmart_browse_NM101_page1.html", url), "NM101", 1))
    listing_requests = [o for o in output if isinstance(o, Request) and "/browse/" in o.url]
    product_requests = [o for o in output if isinstance(o, Request) and "/product/" in o.url]
    assert [o for o in output if isinstance(o, PriceObservation)] == []  # all wait for their barcode
    assert len(listing_requests) == 3 and listing_requests[-1].url.endswith("page=4&pageSize=48")
    assert len(product_requests) == 48
    product_url = f"{BASE}/nextmart/product/nm-7a926fc100"
    assert product_requests[0].url == product_url
    released = list(
        nextmart.parse_product(html("nextmart_product_nm-7a926fc100.html", product_url), "nm-7a926fc100")
    )
    (price,) = released
    assert price.gtin == "9325123761302" and price.retailer_product_id == "nm-7a926fc100"
    assert price.product_name == "Dairy Meadows Lactose Free Milk" and price.package_size_text == "1L"
    assert price.store_id == "NM101" and price.in_stock in ("IN_STOCK", "OUT_OF_STOCK")
    assert isinstance(price.price, float) and price.unit_price_text.endswith("per L")
    # The same product listed by another branch later lands at once with the known barcode.
    again = list(nextmart.parse_listing(html("nextmart_browse_NM101_page1.html", url), "NM102", 2))
    assert [p.gtin for p in again if isinstance(p, PriceObservation)][0] == "9325123761302"


def test_nextmart_data_route_has_the_same_props():
    spider = spider_of(NextmartSpider, f"{BASE}/nextmart")
    spider._gtins = {}
    url = f"{BASE}/nextmart/_next/data/nm-build-7f3a2c/browse/NM101.json?page=2&pageSize=100"
    response = TextResponse(url=url, body=(DATA / "nextmart_data_NM101_page2.json").read_bytes(),
                            encoding="utf-8", request=Request(url))  # fmt: skip
    output = list(spider.parse_listing(response, "NM101", 2))
    assert (
        len([o for o in output if isinstance(o, Request)]) == 81
    )  # product pages of page 2 (none seen before)


def test_next_data_refuses_a_truncated_page():
    text = (DATA / "nextmart_browse_NM101_page1.html").read_text()
    with pytest.raises(PageParseError, match="__NEXT_DATA__"):
        next_data(text[: len(text) // 2])
    assert next_data(text)["props"]["pageProps"]["pagination"]["totalPages"] == 4


def test_renamed_price_field_is_quarantined_with_its_reason(nextmart):
    url = f"{BASE}/nextmart/browse/NM101?page=1&pageSize=48"
    text = (DATA / "nextmart_browse_NM101_page1.html").read_text().replace('"now":', '"current":')
    response = HtmlResponse(url=url, body=text.encode(), encoding="utf-8", request=Request(url))
    nextmart._gtins = {}
    list(nextmart.parse_listing(response, "NM101", 2))
    released = list(nextmart._release("nm-7a926fc100", None))
    assert released[0].reject_reason.startswith("source field pricing.now absent from the record (renamed")


def test_malformed_listing_is_refetched_then_quarantined(nextmart):
    url = f"{BASE}/nextmart/browse/NM101?page=1&pageSize=48"
    text = (DATA / "nextmart_browse_NM101_page1.html").read_text().replace('{"props"', '{"oops" ,"props"')
    first = list(nextmart.parse_listing(HtmlResponse(url=url, body=text.encode(), encoding="utf-8",
                                                     request=Request(url)), "NM101", 1))  # fmt: skip
    assert len(first) == 1 and isinstance(first[0], Request) and first[0].dont_filter
    last = HtmlResponse(
        url=url, body=text.encode(), encoding="utf-8", request=Request(url, meta={"parse_retries": 2})
    )
    (page,) = list(nextmart.parse_listing(last, "NM101", 1))
    assert isinstance(page, RejectedPage)
    assert page.reject_reason.startswith("unreadable page after 3 fetches: __NEXT_DATA__ is not valid JSON")
    assert page.raw_payload["url"] == url and page.raw_payload["body_start"].startswith("<!DOCTYPE html>")


# --- cornershop (sitemap + JSON-LD) ---------------------------------------------------
def test_sitemap_index_and_urlset_become_requests(cornershop):
    index_url = f"{BASE}/cornershop/sitemap.xml"
    index = XmlResponse(
        url=index_url, body=(DATA / "cornershop_sitemap.xml").read_bytes(), request=Request(index_url)
    )
    subs = [r.url for r in cornershop.parse_sitemap(index)]
    assert subs == [f"{BASE}/cornershop/sitemaps/stores.xml", f"{BASE}/cornershop/sitemaps/products-1.xml"]
    url = f"{BASE}/cornershop/sitemaps/products-1.xml"
    urlset = XmlResponse(
        url=url, body=(DATA / "cornershop_sitemap_products-1.xml").read_bytes(), request=Request(url)
    )
    pages = [r.url for r in cornershop.parse_sitemap(urlset)]
    assert len(pages) == 169 and all(p.startswith(f"{BASE}/cornershop/products/") for p in pages)


def test_store_page_json_ld_is_a_store(cornershop):
    (store,) = list(
        cornershop.parse_page(html("cornershop_store_cs-001.html", f"{BASE}/cornershop/stores/cs-001"))
    )
    assert isinstance(store, Store)
    assert (store.store_id, store.store_name, store.region) == ("cs-001", "Corner Shop Southbank", "VIC")
    assert store.postcode == "3006" and store.latitude < 0


def test_product_page_yields_one_observation_per_branch_offer(cornershop):
    url = f"{BASE}/cornershop/products/lactose-free-milk-CS0000005"
    prices = list(cornershop.parse_page(html("cornershop_product_CS0000005.html", url)))
    assert [p.store_id for p in prices] == ["cs-001", "cs-002", "cs-003"]
    first = prices[0]
    assert first.retailer_product_id == "CS0000005" and first.gtin == "9325123761302"
    assert first.product_name == "Lactose Free Milk 1L - Dairy Meadows" and first.brand == "Dairy Meadows"
    assert first.price and first.currency == "AUD" and first.in_stock in (True, False)
    assert first.package_size_text == "1L" and first.source_url == url


def test_json_ld_of_any_shop_without_branches_lands_as_online_store():
    spider = spider_of(CornershopSpider, "https://shop.example/sitemap.xml")
    spider._online_store_emitted = False
    page = (
        '<html><head><script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"Product",'
        '"name":"Tea 100 bags","sku":"T1","gtin":"9300000000010","brand":"Leafy","offers":{"@type":"Offer",'
        '"price":"4.50","priceCurrency":"NZD","availability":"https://schema.org/InStock"}}]}</script></head></html>'
    )
    url = "https://shop.example/p/tea"
    output = list(
        spider.parse_page(HtmlResponse(url=url, body=page.encode(), encoding="utf-8", request=Request(url)))
    )
    store, price = output
    assert isinstance(store, Store) and store.store_id == "online"
    assert (price.store_id, price.currency, price.brand, price.gtin) == (
        "online",
        "NZD",
        "Leafy",
        "9300000000010",
    )


def test_truncated_json_ld_is_refused():
    text = (DATA / "cornershop_product_CS0000005.html").read_text()
    cut = text[: text.rindex("application/ld+json") + 200]
    with pytest.raises(PageParseError):
        json_ld_documents(cut)
