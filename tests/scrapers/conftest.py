"""Fixtures for scraper tests: item factories (no HTTP, no Scrapy engine)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from scrapers.items import PriceObservation, Store

SCRAPE_DATE = dt.date(2026, 11, 22)
FETCHED_AT = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)


def _provenance() -> dict[str, Any]:
    return {
        "retailer": "freshmart",
        "scrape_date": SCRAPE_DATE,
        "fetched_at": FETCHED_AT,
        "source": "scrapy:freshmart",
        "source_url": "http://127.0.0.1:1/api/products?store=1001&page=1&pageSize=100",
        "run_id": "test-run",
    }


@pytest.fixture
def make_price() -> Callable[..., PriceObservation]:
    def factory(**overrides: Any) -> PriceObservation:
        fields: dict[str, Any] = {
            **_provenance(),
            "store_id": "1001",
            "retailer_product_id": "100007",
            "product_name": "FreshMart Vanilla Yoghurt 1kg",
            "brand": "FreshMart",
            "category_path": "Dairy > Yoghurt",
            "gtin": "9375287459225",
            "package_size_text": "1kg",
            "price": 10.87,
            "was_price": None,
            "currency": "AUD",
            "unit_price_text": "$10.87 / 1KG",
            "in_stock": True,
            "raw_payload": {"stockcode": "100007", "price": 10.87},
        }
        fields.update(overrides)
        return PriceObservation(**fields)

    return factory


@pytest.fixture
def make_store() -> Callable[..., Store]:
    def factory(**overrides: Any) -> Store:
        fields: dict[str, Any] = {
            **_provenance(),
            "source_url": "http://127.0.0.1:1/api/stores",
            "store_id": "1001",
            "store_name": "FreshMart Northgate",
            "address": "129 Church St, Northgate NSW",
            "postcode": "2000",
            "latitude": -33.886432,
            "longitude": 150.971356,
            "region": "NSW",
            "raw_payload": {"branchId": "1001"},
        }
        fields.update(overrides)
        return Store(**fields)

    return factory
