"""The freshmart spider against saved demo-market responses (seed 42, 200 products, 3 stores, 2026-11-22)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from scrapers.items import PriceObservation, Store
from scrapers.pipelines.dedupe import DedupePipeline
from scrapers.pipelines.gtin import GtinPipeline
from scrapers.pipelines.pack_size import PackSizePipeline
from scrapers.pipelines.price import PricePipeline
from scrapers.pipelines.quarantine import QuarantinePipeline
from scrapers.pipelines.validation import ValidationPipeline
from scrapers.registry import get_retailer
from scrapers.spiders.loader import spider_class

DATA = Path(__file__).parent / "data"
BASE_URL = "http://127.0.0.1:8765"

FreshmartSpider = spider_class(get_retailer("freshmart"))


@pytest.fixture
def spider() -> FreshmartSpider:
    crawler = get_crawler(FreshmartSpider)
    return FreshmartSpider.from_crawler(crawler, base_url=BASE_URL, scrape_date="2026-11-22", run_id="run-1")


def saved_response(name: str, url: str) -> TextResponse:
    return TextResponse(url=url, body=(DATA / name).read_bytes(), encoding="utf-8", request=Request(url))


def test_parse_stores_yields_stores_and_first_product_pages(spider):
    output = list(spider.parse_stores(saved_response("freshmart_stores.json", f"{BASE_URL}/api/stores")))
    stores = [o for o in output if isinstance(o, Store)]
    requests = [o for o in output if isinstance(o, Request)]
    assert [s.store_id for s in stores] == ["1001", "1002", "1003"]
    assert stores[0].store_name == "FreshMart Northgate" and stores[0].region == "NSW"
    assert stores[0].source == "scrapy:freshmart" and stores[0].run_id == "run-1"
    assert [r.url for r in requests] == [
        f"{BASE_URL}/api/products?store={sid}&page=1&pageSize=100" for sid in ("1001", "1002", "1003")
    ]


def test_parse_first_product_page_yields_prices_and_remaining_pages(spider):
    url = f"{BASE_URL}/api/products?store=1001&page=1&pageSize=100"
    output = list(
        spider.parse_products(saved_response("freshmart_products_store1001_page1.json", url), "1001", 1)
    )
    requests = [o for o in output if isinstance(o, Request)]
    prices = [o for o in output if isinstance(o, PriceObservation)]
    assert [r.url for r in requests] == [f"{BASE_URL}/api/products?store=1001&page=2&pageSize=100"]
    assert len(prices) == 100
    first = prices[0]
    assert (first.retailer_product_id, first.product_name, first.store_id) == (
        "100000", "Dairy Meadows Lactose Free Milk 1L", "1001"
    )  # fmt: skip
    assert first.price == 1.87 and first.currency == "AUD" and first.package_size_text == "1L"
    assert first.raw_payload["stockcode"] == "100000"
    assert first.source_url == url


def _run_pipelines(items, tmp_path):
    chain = [ValidationPipeline(), PricePipeline(), PackSizePipeline(), GtinPipeline(), DedupePipeline()]
    quarantine = QuarantinePipeline(tmp_path)
    quarantine.open_spider()
    kept, rejected = [], 0
    for item in items:
        for pipeline in chain:
            item = pipeline.process_item(item)
        try:
            kept.append(quarantine.process_item(item))
        except DropItem:
            rejected += 1
    quarantine.close_spider()
    return kept, rejected


def test_saved_page_through_the_pipelines(spider, tmp_path):
    url = f"{BASE_URL}/api/products?store=1002&page=1&pageSize=100"
    output = spider.parse_products(saved_response("freshmart_products_store1002_page1.json", url), "1002", 1)
    kept, rejected = _run_pipelines([o for o in output if isinstance(o, PriceObservation)], tmp_path)
    assert (len(kept), rejected) == (99, 1)  # this page carries one record without a price
    assert all(isinstance(i.price, Decimal) and i.package_unit in {"kg", "l", "each"} for i in kept)
    assert all(i.unit_price is not None for i in kept)
    assert all(i.gtin is None or len(i.gtin) == 13 for i in kept)
    promoted = [i for i in kept if i.was_price is not None]
    assert promoted and all(i.was_price > i.price for i in promoted)


def test_spider_requires_its_arguments():
    with pytest.raises(ValueError, match="needs base_url, scrape_date and run_id"):
        FreshmartSpider(base_url=BASE_URL)
