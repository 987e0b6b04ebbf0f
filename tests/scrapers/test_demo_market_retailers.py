"""The demo market's retailers share one catalogue: ground truth, GTINs, per-branch prices, and
what dates do (prices move, promotions - some fake -, shrinkflation, stock-outs)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest

from scrapers.demo_market import launch
from scrapers.demo_market.catalogue import RETAILERS, Catalogue, gtin_check_digit, shrink_size, truth_records
from scrapers.demo_market.server import Faults

DAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue(seed=42, products=600, stores=4, date=DAY)


def test_every_retailer_has_its_own_branches(catalogue):
    ids = {r: [s.store_id for s in catalogue.stores(r)] for r in RETAILERS}
    assert ids["freshmart"] == ["1001", "1002", "1003", "1004"] and ids["nextmart"][0] == "NM101"
    assert len({i for v in ids.values() for i in v}) == 4 * len(RETAILERS) and len(RETAILERS) >= 4
    for retailer in RETAILERS:
        for store in catalogue.stores(retailer):
            assert store.postcode and store.region and -45 < store.latitude < -25 and store.address


def test_truth_maps_each_retailer_product_to_one_canonical_product(catalogue):
    truth = truth_records(catalogue)
    by_retailer = {r: [t for t in truth if t["retailer"] == r] for r in RETAILERS}
    assert len(by_retailer["freshmart"]) == 600
    assert 480 < len(by_retailer["nextmart"]) < 600 and 450 < len(by_retailer["cornershop"]) < 590
    for rows in by_retailer.values():
        ids = [t["retailer_product_id"] for t in rows]
        assert len(ids) == len(set(ids))
    canonical = {}
    for t in truth:
        canonical.setdefault(t["canonical_product_id"], set()).add(t["gtin"])
    assert all(len(g) == 1 for g in canonical.values())  # one GTIN (or none) per product everywhere


def test_published_gtins_are_valid_and_shared_except_a_share_without(catalogue):
    for retailer in ("nextmart", "cornershop"):
        published = [
            catalogue.retailer_gtin(retailer, catalogue.product(i)) for i in catalogue.carried(retailer)
        ]
        valid = [g for g in published if g]
        assert all(len(g) == 13 and gtin_check_digit(g[:12]) == g[12] for g in valid)
        missing = 1 - len(valid) / len(published)
        assert 0.05 < missing < 0.25
    shared = set(catalogue.carried("nextmart")) & set(catalogue.carried("cornershop"))
    for index in shared:
        product = catalogue.product(index)
        a, b = catalogue.retailer_gtin("nextmart", product), catalogue.retailer_gtin("cornershop", product)
        assert a is None or b is None or a == b == product.true_gtin


def test_prices_differ_by_branch_and_date_and_are_deterministic(catalogue):
    products = catalogue.products(0, 200)
    a, b = catalogue.stores("nextmart")[:2]
    day1 = [catalogue.price(a, p, DAY).price for p in products]
    assert day1 == [Catalogue(42, 600, 4, DAY).price(a, p, DAY).price for p in products]
    assert (
        sum(x != y for x, y in zip(day1, [catalogue.price(b, p, DAY).price for p in products], strict=True))
        > 150
    )
    day2 = [catalogue.price(a, p, DAY + dt.timedelta(days=1)).price for p in products]
    assert sum(x != y for x, y in zip(day1, day2, strict=True)) > 150


def test_promotions_include_fake_ones_above_the_30_day_high(catalogue):
    store = catalogue.stores("cornershop")[0]
    fakes = 0
    for index in range(300):
        product = catalogue.product(index)
        today = catalogue.price(store, product, DAY)
        if today.promotion != "fake":
            continue
        fakes += 1
        history = [catalogue.price(store, product, DAY - dt.timedelta(days=n)) for n in range(1, 31)]
        high = max(p.was_price if p.promotion == "real" else p.price for p in history if p.price is not None)
        assert today.was_price > high
    assert fakes >= 3


def test_packs_shrink_at_the_same_price_from_a_day_on():
    catalogue = Catalogue(seed=42, products=2000, stores=1)
    early, late = dt.date(2026, 1, 1), dt.date(2027, 1, 1)
    shrunk = [i for i in range(2000) if catalogue.product(i, late).shrunk]
    assert len(shrunk) > 40
    for index in shrunk[:20]:
        before, after = catalogue.product(index, early), catalogue.product(index, late)
        assert after.package_quantity < before.package_quantity and after.base_price == before.base_price
        assert after.stockcode == before.stockcode and after.package_size_text != before.package_size_text
    assert shrink_size("6 x 375mL", 2.25) == ("6 x 340mL", 2.04)
    assert shrink_size("per kg", 1) is None


def test_stock_outs_move_with_the_date(catalogue):
    store = catalogue.stores("freshmart")[0]
    out = [
        {
            i
            for i in range(600)
            if not catalogue.price(store, catalogue.product(i), DAY + dt.timedelta(days=d)).in_stock
        }
        for d in range(2)
    ]
    assert out[0] and out[1] and out[0] != out[1]


def test_fault_spec_parses_and_rejects_unknown_faults():
    faults = Faults.parse("rate_limit_every=4,retry_after=3,slow_seconds=0.5")
    assert (faults.rate_limit_every, faults.retry_after, faults.slow_seconds) == (4, 3, 0.5)
    with pytest.raises(ValueError, match="unknown fault"):
        Faults.parse("explode=1")


@pytest.mark.integration
def test_one_process_serves_every_retailer_truth_and_the_time_machine():
    with launch(seed=42, products=50, stores=2, date=DAY) as market:

        def get(path, headers=None):
            request = urllib.request.Request(market.base_url + path, headers=headers or {})
            return urllib.request.urlopen(request, timeout=10).read()

        truth = json.loads(get("/_truth/products.json?retailer=cornershop"))["products"]
        assert truth and {t["retailer"] for t in truth} == {"cornershop"}
        assert b"__NEXT_DATA__" in get("/nextmart/stores")
        assert b"<sitemapindex" in get("/cornershop/sitemap.xml")
        assert b"Sitemap: " in get("/robots.txt")
        assert get("/freshmart/api/stores") == get("/api/stores")
        page = "/api/products?store=1001&page=1&pageSize=50"
        other_day = {"X-SmartCart-Date": "2026-01-05"}
        assert get(page) != get(page, other_day) and get(page, other_day) == get(page, other_day)
