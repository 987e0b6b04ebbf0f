"""Crawl health gates: thresholds per retailer, the verdict on a crawl, and (end to end, with the
demo market's faults) a crawl losing ~8% of its rows is degraded and its delivery does not ship."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

from warehouse.landing.crawl_health import (
    CrawlHealthThresholds,
    PreviousGoodDay,
    assess_crawl,
    configured_retailers,
    crawl_health_thresholds,
)

DAY = dt.date(2026, 5, 12)
PREVIOUS = PreviousGoodDay(DAY - dt.timedelta(days=1), rows=204, stores=3, products=68)


def assess(previous: PreviousGoodDay | None = PREVIOUS, **overrides):
    measures = dict(rows=204, rejects=0, pages=74, pages_quarantined=0, stores=3, products=68)
    measures.update(overrides)
    return assess_crawl("cornershop", DAY, previous=previous, **measures)


# --- thresholds -------------------------------------------------------------------------------
def test_thresholds_default_then_json_then_per_field_variables():
    assert crawl_health_thresholds("nextmart", env={}) == CrawlHealthThresholds()
    env = {
        "SMARTCART_CRAWL_HEALTH": json.dumps(
            {"default": {"max_reject_share": 0.1}, "nextmart": {"min_rows_vs_previous": 0.8}}
        ),
        "SMARTCART_CRAWL_HEALTH_NEXTMART_MAX_REJECT_SHARE": "0.3",
        "SMARTCART_CRAWL_HEALTH_BIG_SHOP_MIN_COVERAGE_VS_PREVIOUS": "0.5",
    }
    nextmart = crawl_health_thresholds("nextmart", env=env)
    assert (nextmart.max_reject_share, nextmart.min_rows_vs_previous) == (0.3, 0.8)
    assert crawl_health_thresholds("cornershop", env=env).max_reject_share == 0.1
    assert crawl_health_thresholds("big-shop", env=env).min_coverage_vs_previous == 0.5
    assert configured_retailers(env) == ["big-shop", "nextmart"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMARTCART_CRAWL_HEALTH": "{not json"}, "SMARTCART_CRAWL_HEALTH is not JSON"),
        ({"SMARTCART_CRAWL_HEALTH": '{"default": {"max_rejects": 1}}'}, "unknown crawl health threshold"),
        ({"SMARTCART_CRAWL_HEALTH_NEXTMART_MAX_REJECT_SHARE": "lots"}, "is not a number"),
        ({"SMARTCART_CRAWL_HEALTH_NEXTMART_MIN_ROWS_VS_PREVIOUS": "5"}, "between 0 and 1"),
    ],
)
def test_bad_threshold_settings_say_which_variable(env, message):
    with pytest.raises(ValueError, match=message):
        crawl_health_thresholds("nextmart", env=env)


# --- the verdict ------------------------------------------------------------------------------
def test_a_normal_crawl_is_healthy():
    health = assess(rejects=2)  # a normal demo freshmart crawl quarantines ~1% of its records
    assert health.status == "succeeded" and health.breaches == []


def test_a_crawl_losing_eight_percent_of_rows_is_degraded_and_says_by_how_much():
    health = assess(rows=188, rejects=16)
    assert health.status == "degraded"
    assert "16 of 204 records quarantined (7.8%, threshold 2.0%)" in health.breaches
    assert f"188 rows vs 204 on {PREVIOUS.scrape_date} (-7.8%, threshold -5.0%)" in health.breaches
    assert health.measures["rows_vs_previous"] == pytest.approx(188 / 204, abs=1e-4)


def test_each_threshold_alone_degrades_a_crawl():
    assert assess(pages_quarantined=6).breaches == ["6 of 74 pages quarantined (8.1%, threshold 2.0%)"]
    # Rows lost without a trace in the crawl's own stats (a page listing fewer products):
    [rows_breach] = assess(rows=190, products=68).breaches[:1]
    assert rows_breach.startswith("190 rows vs 204")
    # The same number of rows but one store lost half its shelf while a new product appeared:
    coverage = assess(rows=204, products=90, previous=PREVIOUS)
    assert coverage.status == "degraded" and "store x product coverage" in coverage.breaches[0]
    assert "no rows at all" in assess(rows=0, stores=0, products=0).breaches


def test_the_first_crawl_of_a_retailer_is_judged_on_its_own_shares():
    health = assess(rows=150, previous=None)
    assert health.status == "succeeded" and health.measures["rows_vs_previous"] is None
    assert assess(rows=150, rejects=50, previous=None).status == "degraded"


def test_thresholds_are_per_retailer(monkeypatch):
    monkeypatch.setenv("SMARTCART_CRAWL_HEALTH_CORNERSHOP_MIN_ROWS_VS_PREVIOUS", "0.9")
    monkeypatch.setenv("SMARTCART_CRAWL_HEALTH_CORNERSHOP_MIN_COVERAGE_VS_PREVIOUS", "0.9")
    monkeypatch.setenv("SMARTCART_CRAWL_HEALTH_CORNERSHOP_MAX_REJECT_SHARE", "0.1")
    assert assess(rows=188, rejects=16).status == "succeeded"
    assert assess(rows=180, rejects=24).status == "degraded"


# --- end to end: demo market faults, Dagster, dbt, GX, delivery -------------------------------
FIRST_DAY, FAULTED_DAY = dt.date(2025, 2, 10), dt.date(2025, 2, 11)
RETAILERS = ["cornershop", "freshmart"]


def _pipeline(settings, day, faults=None):
    from orchestration.runs import run_catalog_pipeline
    from scrapers.demo_market import launch

    with launch(seed=11, products=80, stores=3, date=day, faults=faults) as market:
        return run_catalog_pipeline(settings, market.base_url, day.isoformat(), RETAILERS)


def _deliveries(settings):
    return sorted((settings.deliveries_dir / "catalog").glob("2*"))


def _check_result(result, name: str):
    [evaluation] = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    ]
    return evaluation


@pytest.mark.integration
@pytest.mark.slow
def test_a_faulted_crawl_is_degraded_reaches_the_mart_flagged_and_never_ships(isolated_warehouse):
    from orchestration.run_reports import failure_messages

    settings = isolated_warehouse  # counts whole days and deliveries: a cluster of its own
    first = _pipeline(settings, FIRST_DAY)
    assert first.success, failure_messages(first)
    shipped = _deliveries(settings)

    # Every 13th cornershop product page loses its price: ~7% of its rows are quarantined.
    faulted = _pipeline(settings, FAULTED_DAY, faults="missing_prices_every=13")
    assert not faulted.success
    assert _deliveries(settings) == shipped, "a delivery shipped degraded data"
    messages = " | ".join(failure_messages(faulted))
    # The run's failure names crawl health first, with the retailer, the day and by how much.
    gate = messages.split("quality gate failed", 1)[-1]
    assert gate.split(" | ")[0].count("crawl health: no degraded crawl") == 1, messages
    assert "retailer=cornershop, scrape_date=2025-02-11" in gate and "records quarantined (" in gate, messages

    check = _check_result(faulted, "crawl_health")
    assert not check.passed and "cornershop 2025-02-11" in check.description
    assert "rows vs" in check.description and "records quarantined" in check.description
    assert "freshmart" not in check.description.split("degraded crawls")[1]

    url = settings.database_url("catalog")
    with psycopg.connect(url) as conn:
        runs = dict(
            conn.execute(
                "select retailer, status from raw.scrape_runs where scrape_date = %s", (FAULTED_DAY,)
            ).fetchall()
        )
        assert runs == {"cornershop": "degraded", "freshmart": "succeeded"}
        rows_vs_previous, is_degraded = conn.execute(
            "select rows_vs_previous, is_degraded from catalog.fct_crawl_health"
            " where retailer = 'cornershop' and crawl_date = %s",
            (FAULTED_DAY,),
        ).fetchone()
        assert is_degraded and 0.9 < rows_vs_previous < 0.95  # flagged in the mart, with its size
        (in_mart,) = conn.execute(
            "select count(*) from catalog.fct_prices_daily where retailer = 'cornershop' and price_date = %s",
            (FAULTED_DAY,),
        ).fetchone()
        assert in_mart > 0  # degraded data may reach the marts (flagged), never a delivery

    # Re-crawled without faults, the day is healthy again and the delivery ships.
    repaired = _pipeline(settings, FAULTED_DAY)
    assert repaired.success, failure_messages(repaired)
    assert len(_deliveries(settings)) == len(shipped) + 1
