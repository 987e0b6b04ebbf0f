"""Loading crawl landings into raw.*: atomic partition replacement, quarantine rows, failed runs.

Uses the ``catalog_conn`` fixture (tests/conftest.py): a psycopg connection, autocommit off, to a
migrated smartcart_catalog database on a real cluster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import uuid

import pytest

from scrapers.crawl import run_crawl_subprocess
from scrapers.demo_market import launch
from warehouse.domain.landing import CrawlLanding
from warehouse.landing.loading import LandingMismatch, load_crawl_landing, record_failed_run

pytestmark = pytest.mark.integration

# An old date no real crawl uses, so the test partition never collides with other data.
SCRAPE_DATE = dt.date(1999, 12, 31)
RETAILER = "freshmart"


@pytest.fixture(scope="module")
def crawl_landing(tmp_path_factory) -> CrawlLanding:
    run_id = f"test-load-{uuid.uuid4().hex[:8]}"
    with launch(seed=42, products=200, stores=3, date=dt.date(2026, 11, 22)) as market:
        return run_crawl_subprocess(
            RETAILER, market.base_url, SCRAPE_DATE, run_id, tmp_path_factory.mktemp("landing")
        )


@pytest.fixture
def conn(catalog_conn, crawl_landing):
    yield catalog_conn
    catalog_conn.rollback()
    with catalog_conn.cursor() as cursor:
        for table in ("price_observations", "stores", "rejected_items"):
            cursor.execute(
                f"delete from raw.{table} where retailer = %s and scrape_date = %s", (RETAILER, SCRAPE_DATE)
            )
        cursor.execute("delete from raw.scrape_runs where run_id like %s", ("test-load-%",))
    catalog_conn.commit()


def partition_counts(conn) -> tuple[int, int, int]:
    counts = []
    for table in ("price_observations", "stores", "rejected_items"):
        row = conn.execute(
            f"select count(*) from raw.{table} where retailer = %s and scrape_date = %s",
            (RETAILER, SCRAPE_DATE),
        ).fetchone()
        counts.append(row[0])
    return tuple(counts)


def test_loading_twice_replaces_the_partition(conn, crawl_landing):
    first = load_crawl_landing(conn, crawl_landing)
    after_first = partition_counts(conn)
    second = load_crawl_landing(conn, crawl_landing)
    assert first == second
    assert partition_counts(conn) == after_first == (first.rows, first.stores, first.rejects)
    assert first.rows == crawl_landing.stats["items"] and first.rows + first.rejects == 600
    assert first.stores == 3
    run = conn.execute(
        "select status, items, stores, rejects, pages from raw.scrape_runs where run_id = %s",
        (crawl_landing.run_id,),
    ).fetchone()
    assert run == ("succeeded", first.rows, 3, first.rejects, crawl_landing.stats["pages"])


def test_loaded_rows_are_typed(conn, crawl_landing):
    load_crawl_landing(conn, crawl_landing)
    units = conn.execute(
        "select distinct package_unit from raw.price_observations where retailer = %s and scrape_date = %s",
        (RETAILER, SCRAPE_DATE),
    ).fetchall()
    assert {u for (u,) in units} <= {"kg", "l", "each"}
    (bad_unit_prices,) = conn.execute(
        "select count(*) from raw.price_observations where retailer = %s and scrape_date = %s "
        "and unit_price <> round(price / package_quantity, 4)",
        (RETAILER, SCRAPE_DATE),
    ).fetchone()
    assert bad_unit_prices == 0


def test_rejects_land_with_reason_and_payload(conn, crawl_landing):
    summary = load_crawl_landing(conn, crawl_landing)
    rows = conn.execute(
        "select reason, payload, run_id from raw.rejected_items where retailer = %s and scrape_date = %s",
        (RETAILER, SCRAPE_DATE),
    ).fetchall()
    assert len(rows) == summary.rejects > 0
    for reason, payload, run_id in rows:
        assert reason == "price_observation: missing required field: price"
        assert payload["price"] is None and payload["stockcode"]
        assert run_id == crawl_landing.run_id


def test_failed_run_leaves_the_previous_partition_intact(conn, crawl_landing, tmp_path):
    load_crawl_landing(conn, crawl_landing)
    before = partition_counts(conn)

    failed_run = f"test-load-failed-{uuid.uuid4().hex[:6]}"
    record_failed_run(conn, RETAILER, SCRAPE_DATE, failed_run, "crawl of freshmart incomplete: market died")
    assert partition_counts(conn) == before
    assert conn.execute(
        "select status, message from raw.scrape_runs where run_id = %s", (failed_run,)
    ).fetchone() == (
        "failed",
        "crawl of freshmart incomplete: market died",
    )

    # A landing whose crawl failed is refused outright.
    failed_landing = dataclasses.replace(crawl_landing, stats={**crawl_landing.stats, "status": "failed"})
    with pytest.raises(LandingMismatch, match="refusing to load"):
        load_crawl_landing(conn, failed_landing)
    assert partition_counts(conn) == before

    # A truncated landing fails mid-transaction: the old partition survives whole.
    truncated_dir = tmp_path / "truncated"
    shutil.copytree(crawl_landing.landing_dir, truncated_dir)
    prices_file = truncated_dir / "price_observations.tsv"
    prices = prices_file.read_text().splitlines(keepends=True)
    prices_file.write_text("".join(prices[: len(prices) // 2]))
    with pytest.raises(LandingMismatch, match="files truncated"):
        load_crawl_landing(conn, CrawlLanding.from_dir(truncated_dir))
    assert partition_counts(conn) == before

    # Cut mid-line: COPY itself refuses it, and the old partition survives whole.
    prices_file.write_text("".join(prices)[: len("".join(prices)) // 2 + 7])
    with pytest.raises(LandingMismatch, match="files truncated"):
        load_crawl_landing(conn, CrawlLanding.from_dir(truncated_dir))
    assert partition_counts(conn) == before


def test_rows_of_another_partition_are_refused(conn, crawl_landing, tmp_path):
    load_crawl_landing(conn, crawl_landing)
    before = partition_counts(conn)
    forged_dir = tmp_path / "forged"
    shutil.copytree(crawl_landing.landing_dir, forged_dir)
    prices_file = forged_dir / "price_observations.tsv"
    lines = prices_file.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace(crawl_landing.run_id, "someone-else")
    prices_file.write_text("".join(lines))
    with pytest.raises(LandingMismatch, match="do not belong to"):
        load_crawl_landing(conn, CrawlLanding.from_dir(forged_dir))
    assert partition_counts(conn) == before


def test_run_record_carries_crawl_details(conn, crawl_landing):
    load_crawl_landing(conn, crawl_landing)
    row = conn.execute(
        "select pages_expected, requests, retries, pages_quarantined, response_bytes, memory_max_bytes "
        "from raw.scrape_runs where run_id = %s",
        (crawl_landing.run_id,),
    ).fetchone()
    assert row[0] == crawl_landing.stats["pages_expected"] and row[1] >= row[0]
    assert row[2] == 0 and row[3] == 0 and row[4] > 0 and row[5] > 0
