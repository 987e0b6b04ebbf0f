"""The crawl runner over real HTTP against the demo market, as Dagster runs it."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys

import pytest

from scrapers.crawl import CrawlFailed, PlannedCrawl, run_crawl_subprocess, run_crawls_subprocess
from scrapers.demo_market import launch
from scrapers.registry import retailer_names
from warehouse.domain.landing import CrawlLanding, read_copy_text

pytestmark = pytest.mark.integration
SCRAPE_DATE = dt.date(2026, 11, 22)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_crawl_lands_every_product_in_every_store(tmp_path):
    with launch(seed=42, products=200, stores=3, date=SCRAPE_DATE) as market:
        landing = run_crawl_subprocess(
            "freshmart", market.base_url, SCRAPE_DATE, "it-run-1", tmp_path / "landing"
        )

    prices = read_copy_text(landing.price_observations_path)
    stores = read_jsonl(landing.stores_path)
    rejects = read_jsonl(landing.rejected_items_path)
    assert landing.succeeded and landing.stats["errors"] == 0
    assert len(prices) + len(rejects) == 200 * 3
    assert 0 < len(rejects) < 20  # the market returns a few records without a price
    assert all(r["reason"] == "price_observation: missing required field: price" for r in rejects)
    assert all(r["payload"]["price"] is None for r in rejects)
    keys = [(p["retailer"], p["store_id"], p["retailer_product_id"]) for p in prices]
    assert len(keys) == len(set(keys))
    assert {s["store_id"] for s in stores} == {"1001", "1002", "1003"} == {p["store_id"] for p in prices}
    assert landing.stats["items"] == len(prices) and landing.stats["rejects"] == len(rejects)
    assert landing.stats["pages"] == 1 + 3 * 2 and landing.stats["finish_reason"] == "finished"
    assert all(p["package_unit"] in {"kg", "l", "each"} for p in prices)
    assert {p["run_id"] for p in prices} == {"it-run-1"} and {p["scrape_date"] for p in prices} == {
        "2026-11-22"
    }
    assert CrawlLanding.from_dir(landing.landing_dir) == landing


def test_market_dying_mid_crawl_fails_the_run(tmp_path):
    with launch(seed=42, products=600, stores=3, date=SCRAPE_DATE, faults="unreachable_after=4") as market:
        base_url = market.base_url
        with pytest.raises(CrawlFailed) as failed:
            run_crawl_subprocess("freshmart", base_url, SCRAPE_DATE, "it-run-2", tmp_path / "landing")
    message = str(failed.value)
    assert message.startswith("crawl of freshmart incomplete:")
    assert "page requests failed" in message and base_url in message
    assert "Nothing from this run may be loaded" in message
    assert "--- stderr tail ---" in message
    stats = json.loads((tmp_path / "landing" / "crawl_stats.json").read_text())
    assert stats["status"] == "failed" and stats["errors"] > 0 and stats["pages"] < stats["pages_expected"]


def test_unreachable_market_fails_with_connection_refused(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CrawlFailed, match=r"connection refused to http://127\.0\.0\.1:\d+"):
        run_crawl_subprocess("freshmart", f"http://127.0.0.1:{port}", SCRAPE_DATE, "it-run-3", tmp_path / "l")


def _crawl_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m scrapers.crawl`` against a port nobody serves (argument checks need no site)."""
    return subprocess.run(
        [sys.executable, "-m", "scrapers.crawl", "--base-url", "http://127.0.0.1:9", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_cli_rejects_an_unknown_retailer(tmp_path):
    completed = _crawl_cli(
        "--retailer", "nosuchshop", "--scrape-date", "2026-11-22", "--run-id", "x", "--landing-dir", str(tmp_path)
    )  # fmt: skip
    assert completed.returncode == 2
    assert (
        f"unknown retailer 'nosuchshop'; known retailers: {', '.join(retailer_names())}" in completed.stderr
    )


def test_http_cache_replays_a_crawl_without_the_site(tmp_path):
    cache = tmp_path / "cache"
    with launch(seed=42, products=60, stores=2, date=SCRAPE_DATE) as market:
        base_url = market.base_url
        first = run_crawl_subprocess(
            "nextmart", f"{base_url}/nextmart", SCRAPE_DATE, "cache-1", tmp_path / "a", http_cache_dir=cache
        )
    # the market is gone: the replay comes from the cache alone
    replay = run_crawl_subprocess(
        "nextmart", f"{base_url}/nextmart", SCRAPE_DATE, "cache-2", tmp_path / "b", http_cache_dir=cache
    )
    assert replay.succeeded and replay.stats["items"] == first.stats["items"] > 0

    def strip(rows):
        return sorted((r["store_id"], r["retailer_product_id"], r["price"], r["gtin"]) for r in rows)

    assert strip(read_copy_text(replay.price_observations_path)) == strip(
        read_copy_text(first.price_observations_path)
    )


def test_days_crawl_in_turn_in_one_process_and_a_site_dying_fails_only_the_days_it_reached(tmp_path):
    days = [SCRAPE_DATE + dt.timedelta(days=offset) for offset in range(3)]
    plans = [PlannedCrawl(day, f"multi-{day:%d}", tmp_path / day.isoformat()) for day in days]
    with launch(seed=42, products=200, stores=3, date=SCRAPE_DATE) as market:
        [healthy] = run_crawls_subprocess("freshmart", market.base_url, plans[:1])
    pages = healthy.stats["pages"]  # data pages of one day's crawl
    # The site dies a few pages into the second day: the first day landed whole and stays loadable.
    with launch(
        seed=42, products=200, stores=3, date=SCRAPE_DATE, faults=f"unreachable_after={pages + 3}"
    ) as market:
        first, second, third = run_crawls_subprocess("freshmart", market.base_url, plans)
    assert isinstance(first, CrawlLanding) and first.succeeded
    assert first.stats["scrape_date"] == days[0].isoformat() and first.stats["run_id"] == "multi-22"
    assert first.stats["items"] == healthy.stats["items"] > 0
    assert {p["scrape_date"] for p in read_copy_text(first.price_observations_path)} == {days[0].isoformat()}
    for failed in (second, third):
        assert isinstance(failed, CrawlFailed)
        assert str(failed).startswith("crawl of freshmart incomplete:") and "reachable" in str(failed)
    # each day's stats are its own: the second got part of its pages, the third none
    stats = [json.loads((plan.landing_dir / "crawl_stats.json").read_text()) for plan in plans]
    assert [s["status"] for s in stats] == ["succeeded", "failed", "failed"]
    assert 0 < stats[1]["pages"] < stats[1]["pages_expected"] and stats[2]["pages"] == 0
    assert [s["scrape_date"] for s in stats] == [day.isoformat() for day in days]


def test_cli_takes_either_one_crawl_or_a_list_not_both(tmp_path):
    completed = _crawl_cli(
        "--retailer", "freshmart", "--scrape-date", "2026-11-22", "--crawl", "2026-11-23", "r", str(tmp_path)
    )  # fmt: skip
    assert completed.returncode == 2 and "not both" in completed.stderr
