"""Nothing ships past a failed blocking check: the delivery job, as its schedule launches it."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import psycopg
import pytest

from orchestration.dagster_instance import prepare_dagster_env
from orchestration.defs.deliveries.schedules import delivery_run_config
from orchestration.run_reports import failure_messages
from orchestration.runs import run_catalog_pipeline
from scrapers.demo_market import launch
from warehouse.publishing.deliveries import verify_delivery

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def warehouse_settings(isolated_warehouse):
    """This module counts whole days and tables: a cluster of its own, not the session's."""
    return isolated_warehouse


DAY = dt.date(2026, 4, 6)


@pytest.fixture(scope="module")
def built_catalog(warehouse_settings):
    with launch(seed=11, products=80, stores=3, date=DAY) as market:
        result = run_catalog_pipeline(warehouse_settings, market.base_url, DAY.isoformat())
    assert result.success, failure_messages(result)
    return warehouse_settings


def run_delivery_job(settings, kind: str, day: dt.date | None):
    prepare_dagster_env(settings)
    from orchestration.definitions import defs

    job = defs.resolve_job_def("catalog_delivery_job")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(
            instance=instance, run_config=delivery_run_config(kind, day), raise_on_error=False
        )


def test_failed_blocking_check_stops_the_delivery(built_catalog):
    settings = built_catalog
    url = settings.database_url("catalog")
    deliveries = lambda: sorted((settings.deliveries_dir / "catalog").glob("2*"))  # noqa: E731
    before = deliveries()
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select * from catalog.fct_prices_daily limit 1").fetchone()
        columns = [d.name for d in conn.execute("select * from catalog.fct_prices_daily limit 0").description]
        orphan = dict(zip(columns, row, strict=True))
        orphan.update(price_id="orphan-row", store_key="no-such-store")
        names = ", ".join(orphan)
        conn.execute(
            f"insert into catalog.fct_prices_daily ({names}) values ({', '.join(['%s'] * len(orphan))})",
            list(orphan.values()),
        )
    try:
        result = run_delivery_job(settings, "delta", DAY)
        assert not result.success
        [message] = failure_messages(result)
        # the job runs the catalog checks first; the failed blocking check stops the delivery
        assert "fct_prices_daily" in message and ("blocked" in message or "check" in message.lower())
        assert deliveries() == before
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("delete from catalog.fct_prices_daily where price_id = 'orphan-row'")

    result = run_delivery_job(settings, "delta", DAY)
    assert result.success, failure_messages(result)
    [new] = [d for d in deliveries() if d not in before]
    assert verify_delivery(new) == []
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["kind"] == "delta" and manifest["day"] == DAY.isoformat()
    assert (new / "quality_report" / "index.html").exists()
    from orchestration.defs.deliveries.assets import CATALOG_TABLES

    assert {f.get("table") for f in manifest["files"]} - {None} == {t.name for t in CATALOG_TABLES}
