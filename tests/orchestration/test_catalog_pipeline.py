"""The catalog pipeline end to end, run by Dagster against a real cluster and a real HTTP market."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import psycopg
import pytest

from orchestration.demo.runner import summarise_run
from orchestration.run_reports import failure_messages
from orchestration.runs import run_catalog_pipeline
from scrapers.demo_market import launch
from scrapers.demo_market.catalogue import RETAILERS
from warehouse.publishing.deliveries import verify_delivery

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def warehouse_settings(isolated_warehouse):
    """This module counts whole days and tables: a cluster of its own, not the session's."""
    return isolated_warehouse


PRODUCTS, STORES = 120, 3
DAY = dt.date(2026, 3, 2)


def _count(settings, sql: str, *params):
    with psycopg.connect(settings.database_url("catalog")) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def live_truth():
    """The market's labelled ground truth, filled in by first_run while the market is up."""
    return {}


@pytest.fixture(scope="module")
def first_run(warehouse_settings, live_truth):
    with launch(seed=7, products=PRODUCTS, stores=STORES, date=DAY) as market:
        result = run_catalog_pipeline(warehouse_settings, market.base_url, DAY.isoformat(), list(RETAILERS))
        with urllib.request.urlopen(f"{market.base_url}/_truth/products.json", timeout=30) as response:
            live_truth.update(
                {(r["retailer"], r["retailer_product_id"]): r["canonical_product_id"]
                 for r in json.load(response)["products"]}
            )  # fmt: skip
    return result


def test_pipeline_lands_builds_solves_and_delivers(first_run, warehouse_settings, live_truth):
    summary = summarise_run(first_run)
    assert summary["success"], summary
    m = summary["materialized"]
    scraped = m["catalog_raw/price_observations"]["rows"]
    rejected = m["catalog_raw/rejected_items"]["rows"]
    # every product each retailer lists, at each of its branches: landed or quarantined
    assert scraped + rejected == len(live_truth) * STORES
    assert scraped == _count(
        warehouse_settings, "select count(*) from raw.price_observations where scrape_date = %s", DAY
    )
    assert (
        _count(warehouse_settings, "select count(*) from catalog.fct_prices_daily where price_date = %s", DAY)
        == scraped
    )
    assert _count(warehouse_settings, "select count(*) from catalog.dim_store") == STORES * len(RETAILERS)
    assert {"catalog/dim_store", "catalog/dim_product", "catalog/fct_prices_daily"} <= set(
        summary["dbt_models"]
    )
    assert summary["checks_passed"] > 10 and summary["checks_failed"] == []

    split = m["sample_basket_split"]["split"]
    assert split["status"] == "optimal"
    assert len(split["stores"]) <= split["max_stores"]
    assert split["saving"] >= -1e-9  # the split can always fall back to the best single store
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        status, total = conn.execute(
            "select status, split_total from serving.basket_splits where price_date = %s", (DAY,)
        ).fetchone()
    assert status == "optimal" and float(total) == pytest.approx(split["total"], abs=0.01)

    delivery = m["catalog_delivery"]["path"]
    assert verify_delivery(delivery) == []
    assert m["catalog_delivery"]["rows_fct_prices_daily"] == _count(
        warehouse_settings, "select count(*) from catalog.fct_prices_daily"
    )


def test_rerun_adds_no_duplicates(first_run, warehouse_settings):
    before = _count(warehouse_settings, "select count(*) from raw.price_observations")
    with launch(seed=7, products=PRODUCTS, stores=STORES, date=DAY) as market:
        result = run_catalog_pipeline(warehouse_settings, market.base_url, DAY.isoformat())
    assert result.success
    assert _count(warehouse_settings, "select count(*) from raw.price_observations") == before
    assert _count(warehouse_settings, "select count(*) from catalog.fct_prices_daily") == before


def test_market_dying_mid_crawl_fails_the_run_and_loads_nothing(first_run, warehouse_settings):
    day = DAY + dt.timedelta(days=1)
    deliveries_before = sorted((warehouse_settings.deliveries_dir / "catalog").glob("2*"))
    mart_before = _count(warehouse_settings, "select count(*) from catalog.fct_prices_daily")
    with launch(seed=7, products=PRODUCTS, stores=STORES, date=day, faults="unreachable_after=2") as market:
        result = run_catalog_pipeline(warehouse_settings, market.base_url, day.isoformat())
    assert not result.success
    [message] = failure_messages(result)
    assert message.startswith("step crawl_freshmart: crawl of freshmart incomplete")
    assert "reachable" in message
    assert (
        _count(warehouse_settings, "select count(*) from raw.price_observations where scrape_date = %s", day)
        == 0
    )
    assert (
        _count(
            warehouse_settings,
            "select count(*) from raw.scrape_runs where scrape_date = %s and status = 'failed'",
            day,
        )
        >= 1
    )
    assert _count(warehouse_settings, "select count(*) from catalog.fct_prices_daily") == mart_before
    assert sorted((warehouse_settings.deliveries_dir / "catalog").glob("2*")) == deliveries_before


def test_matching_of_the_live_crawl_meets_precision_and_recall(
    first_run, warehouse_settings, live_truth, pair_metrics
):
    """Products crawled over HTTP from the three retailers, matched by dbt, against the market's labels."""
    assert summarise_run(first_run)["success"]
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        predicted = {
            (retailer, product_id): product_key
            for retailer, product_id, product_key in conn.execute(
                "select retailer, retailer_product_id, product_key from catalog.dim_retailer_product"
            )
        }
    assert len(set(predicted) & set(live_truth)) >= 0.9 * len(
        live_truth
    )  # nearly every listed product landed
    metrics = pair_metrics(live_truth, predicted)
    print(f"live matching: {metrics}")
    assert metrics["true_pairs"] > PRODUCTS  # products carried by two or three retailers: pairs to find
    # Product level (issue 15): pairs of retailer products under one product.
    assert metrics["precision"] >= 0.99, metrics
    assert metrics["recall"] >= 0.97, metrics


def test_dim_product_is_within_one_percent_of_the_true_product_count(
    first_run, warehouse_settings, live_truth
):
    assert summarise_run(first_run)["success"]
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        landed = {
            (retailer, product_id)
            for retailer, product_id in conn.execute(
                "select retailer, retailer_product_id from catalog.dim_retailer_product"
            )
        }
        product_count = conn.execute("select count(*) from catalog.dim_product").fetchone()[0]
    true_products = len({live_truth[key] for key in landed & set(live_truth)})
    count_error = abs(product_count - true_products) / true_products
    print(f"dim_product {product_count} for {true_products} true products ({count_error:.2%})")
    assert count_error <= 0.01, (product_count, true_products)
