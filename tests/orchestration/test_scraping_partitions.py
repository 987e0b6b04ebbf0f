"""The scraping assets (one per retailer) are partitioned by day: a backfill of N days lands N days
of distinct prices from every retailer, and re-running a partition changes nothing."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg
import pytest

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scraping.assets import crawl_assets, raw_landing
from orchestration.defs.scraping.resources import CrawlSitesResource
from scrapers.demo_market import launch
from scrapers.retailers import RETAILERS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAYS = [dt.date(2025, 6, 1) + dt.timedelta(days=n) for n in range(3)]
CONTENT = """
    select count(*), md5(string_agg(concat_ws('|', retailer, store_id, retailer_product_id, price, was_price,
        in_stock, gtin, package_size_text, unit_price), ',' order by retailer, store_id, retailer_product_id))
    from raw.price_observations where scrape_date = %s
"""


def materialize(market_url: str, day: dt.date):
    return dg.materialize(
        [*crawl_assets, raw_landing],
        partition_key=day.isoformat(),
        resources={"warehouse": WarehouseResource(), "crawl_sites": CrawlSitesResource(base_url=market_url)},
    )


@pytest.fixture(scope="module")
def backfill(warehouse_settings):
    # A live market (no fixed date): each crawl asks for its partition's day.
    with launch(seed=11, products=60, stores=2) as market:
        results = [materialize(market.base_url, day) for day in DAYS]
        yield market.base_url, results


def content(settings, day):
    with psycopg.connect(settings.database_url("catalog")) as conn:
        return conn.execute(CONTENT, (day,)).fetchone()


def test_backfill_of_three_days_lands_three_days_of_distinct_prices(backfill, warehouse_settings):
    _, results = backfill
    assert all(r.success for r in results)
    [landing] = [
        m for m in results[0].asset_materializations_for_node("raw_landing")
        if m.asset_key == dg.AssetKey(["catalog_raw", "price_observations"])
    ]  # fmt: skip
    metadata = landing.metadata
    assert {f"{r}/rows" for r in RETAILERS} <= set(metadata) and metadata["rows"].value > 0
    per_crawl = {
        r: results[0].asset_materializations_for_node(f"crawl_{r}")[0].metadata["dagster/row_count"].value
        for r in RETAILERS
    }
    assert sum(per_crawl.values()) == metadata["dagster/row_count"].value  # each crawl's rows add up
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        per_day = conn.execute(
            "select scrape_date, count(distinct retailer), count(*) from raw.price_observations "
            "where scrape_date = any(%s) group by 1 order by 1",
            (DAYS,),
        ).fetchall()
        runs = conn.execute(
            "select count(*) from raw.scrape_runs where scrape_date = any(%s) and status = 'succeeded'",
            (DAYS,),
        ).fetchone()[0]
        prices = {
            day: dict(
                ((r, s, p), price)
                for r, s, p, price in conn.execute(
                    "select retailer, store_id, retailer_product_id, price from raw.price_observations "
                    "where scrape_date = %s",
                    (day,),
                )
            )
            for day in DAYS
        }
    assert [d for d, _, _ in per_day] == DAYS and all(n == len(RETAILERS) for _, n, _ in per_day)
    assert runs == len(RETAILERS) * len(DAYS)  # one crawl per registry retailer and day
    for a, b in zip(DAYS, DAYS[1:], strict=False):
        shared = prices[a].keys() & prices[b].keys()
        assert len(shared) > 100
        assert sum(prices[a][k] != prices[b][k] for k in shared) > len(shared) / 2  # prices move daily


def test_rerunning_a_partition_changes_nothing(backfill, warehouse_settings):
    market_url, _ = backfill
    before = content(warehouse_settings, DAYS[1])
    assert materialize(market_url, DAYS[1]).success
    assert content(warehouse_settings, DAYS[1]) == before
