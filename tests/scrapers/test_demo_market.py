"""The demo market is deterministic by (seed, date), varies prices by store and date, and stays lazy."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scrapers.demo_market import DemoMarketStartError, launch
from scrapers.demo_market.catalogue import Catalogue, gtin_check_digit
from scrapers.demo_market.freshmart import BadRequest, NotFound, render_products, render_stores

DATA = Path(__file__).parent / "data"
DAY = dt.date(2026, 11, 22)


def page(catalogue: Catalogue, store: str, number: int = 1, size: int = 100) -> bytes:
    return render_products(catalogue, {"store": [store], "page": [str(number)], "pageSize": [str(size)]})


def prices(body: bytes) -> dict[str, float | None]:
    return {p["stockcode"]: p["price"] for p in json.loads(body)["products"]}


def test_same_seed_and_date_give_identical_bytes():
    assert page(Catalogue(42, 200, 3, DAY), "1002", 2) == page(Catalogue(42, 200, 3, DAY), "1002", 2)
    assert render_stores(Catalogue(42, 200, 3, DAY)) == render_stores(Catalogue(42, 200, 3, DAY))


def test_rendering_matches_the_saved_responses_byte_for_byte():
    catalogue = Catalogue(seed=42, products=200, stores=3, date=DAY)
    assert render_stores(catalogue) == (DATA / "freshmart_stores.json").read_bytes()
    assert page(catalogue, "1001") == (DATA / "freshmart_products_store1001_page1.json").read_bytes()


def test_another_date_changes_some_prices_but_not_the_products():
    today, tomorrow = Catalogue(42, 200, 3, DAY), Catalogue(42, 200, 3, DAY + dt.timedelta(days=1))
    a, b = prices(page(today, "1001")), prices(page(tomorrow, "1001"))
    assert a.keys() == b.keys()
    assert sum(a[k] != b[k] for k in a) > 50


def test_prices_differ_by_store():
    catalogue = Catalogue(42, 200, 3, DAY)
    by_store = [prices(page(catalogue, store)) for store in ("1001", "1002", "1003")]
    assert by_store[0].keys() == by_store[1].keys() == by_store[2].keys()
    assert sum(by_store[0][k] != by_store[1][k] for k in by_store[0]) > 50
    assert sum(by_store[0][k] != by_store[2][k] for k in by_store[0]) > 50


def test_another_seed_is_another_catalogue():
    assert page(Catalogue(1, 200, 3, DAY), "1001") != page(Catalogue(2, 200, 3, DAY), "1001")


def test_catalogue_content_is_realistic():
    catalogue = Catalogue(42, 600, 3, DAY)
    products = [json.loads(page(catalogue, "1001", n))["products"] for n in range(1, 7)]
    records = [r for chunk in products for r in chunk]
    assert len(records) == 600 and len({r["stockcode"] for r in records}) == 600
    barcodes = [r["barcode"] for r in records if r["barcode"]]
    assert 0.85 * 600 < len(barcodes) < 600  # some products carry no barcode
    valid = [b for b in barcodes if len(b) == 13 and gtin_check_digit(b[:12]) == b[12]]
    assert len(valid) > 0.95 * len(barcodes)
    assert any(not r["isInStock"] for r in records)
    assert any(r["wasPrice"] for r in records)
    assert {"6 x 375mL", "dozen", "per kg", "each", "500g"} <= {r["packageSize"] for r in records}


def test_paging_and_errors():
    catalogue = Catalogue(42, 250, 3, DAY)
    last = json.loads(page(catalogue, "1001", 3))
    assert (last["totalPages"], last["totalResults"], len(last["products"])) == (3, 250, 50)
    assert json.loads(page(catalogue, "1001", 4))["products"] == []
    with pytest.raises(NotFound):
        page(catalogue, "9999")
    with pytest.raises(BadRequest):
        render_products(catalogue, {"store": ["1001"], "page": ["zero"]})


def test_large_catalogue_is_generated_lazily_per_page():
    started = time.perf_counter()
    catalogue = Catalogue(seed=7, products=50_000, stores=20, date=DAY)
    last = json.loads(page(catalogue, "1020", 500))
    assert len(last["products"]) == 100 and last["totalPages"] == 500
    assert time.perf_counter() - started < 2.0


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.mark.integration
def test_http_server_is_deterministic_across_processes():
    with launch(seed=42, products=200, stores=3, date=DAY) as first:
        first_bytes = _get(f"{first.base_url}/api/products?store=1003&page=2&pageSize=50")
        robots = _get(f"{first.base_url}/robots.txt").decode()
        stores = json.loads(_get(f"{first.base_url}/api/stores"))["stores"]
        with pytest.raises(urllib.error.HTTPError) as not_found:
            _get(f"{first.base_url}/api/products?store=nope")
    with launch(seed=42, products=200, stores=3, date=DAY) as second:
        second_bytes = _get(f"{second.base_url}/api/products?store=1003&page=2&pageSize=50")
    assert first_bytes == second_bytes
    assert "Allow: /api/" in robots and "Disallow: /checkout/" in robots
    assert len(stores) == 3 and {"branchId", "name", "address", "postcode", "lat", "lon", "region"} <= set(
        stores[0]
    )
    assert not_found.value.code == 404
    assert not first.is_running()


@pytest.mark.integration
def test_launch_reports_a_market_that_cannot_start():
    with pytest.raises(DemoMarketStartError, match="exited with code"):
        launch(faults="explode=1")


def test_truth_events_say_what_the_market_did_that_day():
    from scrapers.demo_market.catalogue import truth_events

    day = dt.date(2026, 3, 3)
    catalogue = Catalogue(
        seed=5, products=60, stores=2, date=day, shrink_share=0.5, shrink_from=day, shrink_days=1
    )
    events = truth_events(catalogue, day, "freshmart")
    shrunk = {e["retailer_product_id"]: e for e in events["shrinkflation"]}
    assert shrunk, "half the packs shrink on the day"
    for index in catalogue.carried("freshmart"):
        product, before = catalogue.product(index, day), catalogue.product(index, day - dt.timedelta(days=1))
        key = catalogue.retailer_product_id("freshmart", product)
        assert (key in shrunk) == (product.package_quantity < before.package_quantity)
        if key in shrunk:
            assert (shrunk[key]["old_size"], shrunk[key]["new_size"]) == (
                before.package_size_text,
                product.package_size_text,
            )
        for store in catalogue.stores("freshmart"):
            offer = catalogue.price(store, product, day)
            entry = {"retailer": "freshmart", "retailer_product_id": key, "store_id": store.store_id}
            assert (entry in events["stock_outs"]) == (offer.price is not None and not offer.in_stock)
            fakes = [{k: e[k] for k in entry} for e in events["fake_promotions"]]
            assert (entry in fakes) == (offer.price is not None and offer.promotion == "fake")
    # The next day nothing shrinks any more: the event is the day of the change only.
    assert truth_events(catalogue, day + dt.timedelta(days=1), "freshmart")["shrinkflation"] == []


def test_shrink_knobs_default_to_the_usual_market():
    day = dt.date(2026, 7, 1)
    usual, explicit = (
        Catalogue(seed=9, products=300, date=day),
        Catalogue(
            seed=9,
            products=300,
            date=day,
            shrink_share=0.06,
            shrink_from=dt.date(2026, 1, 1),
            shrink_days=365,
        ),
    )
    assert [usual.product(i) for i in range(300)] == [explicit.product(i) for i in range(300)]
    with pytest.raises(ValueError, match="shrink_share"):
        Catalogue(shrink_share=1.5)
