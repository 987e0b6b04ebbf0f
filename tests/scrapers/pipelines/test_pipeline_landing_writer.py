import json
from decimal import Decimal

import pytest

from scrapers.pipelines.landing_writer import LandingWriterPipeline
from warehouse.domain.landing import (
    PRICE_OBSERVATION_COLUMNS,
    PRICE_OBSERVATIONS_FILE,
    STORE_COLUMNS,
    STORES_FILE,
    read_copy_text,
)


def test_writes_prices_as_copy_text_and_stores_as_jsonl(tmp_path, make_price, make_store):
    pipeline = LandingWriterPipeline(tmp_path)
    pipeline.open_spider()
    pipeline.process_item(
        make_price(price=Decimal("10.87"), package_quantity=Decimal("1.0000"), package_unit="kg")
    )
    pipeline.process_item(make_store())
    pipeline.close_spider()

    (price_row,) = read_copy_text(tmp_path / PRICE_OBSERVATIONS_FILE)
    assert tuple(price_row) == PRICE_OBSERVATION_COLUMNS
    assert price_row["price"] == "10.87" and price_row["scrape_date"] == "2026-11-22"
    assert price_row["fetched_at"] == "2026-11-22T06:00:00+00:00"
    assert price_row["was_price"] is None and price_row["in_stock"] == "t"
    (store_row,) = [json.loads(line) for line in (tmp_path / STORES_FILE).read_text().splitlines()]
    assert tuple(store_row) == STORE_COLUMNS


def test_refuses_an_item_that_skipped_quarantine(tmp_path, make_price):
    pipeline = LandingWriterPipeline(tmp_path)
    pipeline.open_spider()
    item = make_price()
    item.reject("bad")
    with pytest.raises(RuntimeError, match="invalid item reached the landing writer"):
        pipeline.process_item(item)
    pipeline.close_spider()


def test_copy_text_escapes_tabs_newlines_and_backslashes(tmp_path, make_price):
    pipeline = LandingWriterPipeline(tmp_path)
    pipeline.open_spider()
    name = "Tab\there\nnew line \\ backslash"
    pipeline.process_item(make_price(price=Decimal("1.00"), product_name=name))
    pipeline.close_spider()
    (line,) = (tmp_path / PRICE_OBSERVATIONS_FILE).read_text().splitlines()
    assert len(line.split("\t")) == len(PRICE_OBSERVATION_COLUMNS)
    assert read_copy_text(tmp_path / PRICE_OBSERVATIONS_FILE)[0]["product_name"] == name
