"""A 2-day x every-retailer backfill of catalog_pipeline on Dagster's multiprocess executor
(several steps at once) leaves raw and the catalog marts exactly as a serial (in-process) run
does, and ships one delivery per backfill. Prints both wall times."""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
import psycopg
import pytest

from orchestration.dagster_instance import prepare_dagster_env
from orchestration.defs.jobs import crawl_sites_run_config
from scrapers.demo_market import launch

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAYS = [dt.date(2026, 4, 6), dt.date(2026, 4, 7)]
# Content, not ids: scrape run ids and load timestamps differ between runs by design.
CONTENT = {
    "raw.price_observations": "select md5(string_agg(concat_ws('|', scrape_date, retailer, store_id, "
    "retailer_product_id, price, was_price, in_stock, gtin), ',' order by scrape_date, retailer, store_id, "
    "retailer_product_id)), count(*) from raw.price_observations where scrape_date = any(%(days)s)",
    "raw.stores": "select md5(string_agg(concat_ws('|', scrape_date, retailer, store_id), ',' order by "
    "scrape_date, retailer, store_id)), count(*) from raw.stores where scrape_date = any(%(days)s)",
    "catalog.fct_prices_daily": "select md5(string_agg(concat_ws('|', price_date, store_key, product_key, price,"
    " in_stock), ',' order by price_date, store_key, product_key)), count(*) from catalog.fct_prices_daily"
    " where price_date = any(%(days)s)",
    "catalog.dim_product": "select md5(string_agg(concat_ws('|', product_key, product_name, category_path),"
    " ',' order by product_key)), count(*) from catalog.dim_product",
    "catalog.dim_store": "select md5(string_agg(concat_ws('|', store_key, retailer, store_id, region), ','"
    " order by store_key)), count(*) from catalog.dim_store",
}


def catalog_pipeline_job():
    """Module-level, so the multiprocess executor can rebuild the job in each step process."""
    from orchestration.definitions import defs

    return defs.resolve_job_def("catalog_pipeline")


def backfill(instance, market_url: str, execution: dict) -> tuple[bool, float]:
    """One single-run backfill over DAYS, as the UI launches it (partition range tags)."""
    started = time.monotonic()
    with dg.execute_job(
        dg.reconstructable(catalog_pipeline_job),
        instance=instance,
        run_config={
            **crawl_sites_run_config(market_url),
            "execution": {"config": execution},
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
        tags={
            "dagster/asset_partition_range_start": DAYS[0].isoformat(),
            "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
        },
    ) as result:
        return result.success, time.monotonic() - started


def content(settings) -> dict:
    with psycopg.connect(settings.database_url("catalog")) as conn:
        return {table: conn.execute(sql, {"days": DAYS}).fetchone() for table, sql in CONTENT.items()}


def test_parallel_backfill_equals_serial(isolated_warehouse):
    # A cluster of its own: it compares whole tables (dim_product, dim_store), and the session
    # cluster holds earlier modules' products.
    warehouse_settings = isolated_warehouse
    prepare_dagster_env(warehouse_settings)
    deliveries = warehouse_settings.deliveries_dir / "catalog"
    with dg.DagsterInstance.get() as instance, launch(seed=5, products=60, stores=2) as market:
        serial_ok, serial_seconds = backfill(instance, market.base_url, {"in_process": {}})
        assert serial_ok
        serial = content(warehouse_settings)
        shipped = set(deliveries.glob("2*")) if deliveries.exists() else set()
        parallel_ok, parallel_seconds = backfill(
            instance, market.base_url, {"multiprocess": {"max_concurrent": 3}}
        )
        assert parallel_ok
    print(f"2-day x all-retailer backfill: serial {serial_seconds:.1f}s, parallel {parallel_seconds:.1f}s")
    parallel = content(warehouse_settings)
    assert all(rows > 0 for _, rows in serial.values()), serial
    assert parallel == serial
    assert len(set(deliveries.glob("2*")) - shipped) == 1  # the backfill shipped one snapshot
