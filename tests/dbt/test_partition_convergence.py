"""A partition run builds its own days, and incremental models converge with a full refresh.

Against a real cluster and the real dbt project (and, for the partition run, the real Dagster
asset): a three-retailer market (tests/dbt/conftest.py) is built in full; then

- one day is run as a single Dagster partition: the run's log shows the day window vars, that
  day's rows are rewritten and no other day's rows are touched (their xmin is unchanged);
- a day's raw partition is replaced by one with fewer products (and without the products that
  were seen only that day), the day is rebuilt incrementally, and every incremental model is
  compared row for row with a --full-refresh build of the same raw data.
"""

from __future__ import annotations

import json

import dagster as dg
import psycopg
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Every incremental model of the catalog target (is_incremental() in its SQL).
INCREMENTAL_MODELS = (
    "intermediate.int_retailer_product_days",
    "intermediate.int_retailer_products_tracked",
    "intermediate.int_retailer_products_matched",
    "intermediate.int_store_category_prices_daily",
    "catalog.fct_prices_daily",
    "catalog.fct_price_changes",
    "catalog.fct_availability",
    "catalog.fct_promotions",
    "catalog.fct_store_coverage",
    "catalog.fct_price_observations",
)
# Each daily fact and the day column its rows belong to.
DAILY_FACTS = {
    "catalog.fct_prices_daily": "price_date",
    "catalog.fct_store_coverage": "coverage_date",
    "catalog.fct_price_observations": "observed_date",
    "intermediate.int_retailer_product_days": "scrape_date",
}
ONLY_ON_REPLACED_DAY = "DAY2ONLY-"


def _build(tools, settings, work, *args: str) -> str:
    result = tools.run_dbt(settings, ["build", "--select", "tag:catalog", *args], work)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def _window(first, last) -> list[str]:
    return ["--vars", json.dumps({"min_date": first.isoformat(), "max_date": last.isoformat()})]


def _row_versions(conn, table: str, day_column: str) -> dict[str, set[str]]:
    """Per day, the row versions (xmin) of the table's rows: a rewritten row gets a new xmin."""
    versions: dict[str, set[str]] = {}
    for day, xmin in conn.execute(f"select {day_column}::text, xmin::text from {table}"):
        versions.setdefault(day, set()).add(xmin)
    return versions


def _contents(conn, table: str) -> list[str]:
    return [row for (row,) in conn.execute(f"select t::text from {table} as t order by 1")]


@pytest.fixture(scope="module")
def market_built(warehouse_settings, tmp_path_factory, catalog_tools):
    market = catalog_tools.build_matching_market(seed=23, products=90, stores=2, days=3)
    # A few products listed on day 2 only: replacing day 2 without them must make them vanish.
    day2 = market.days[1]
    extra = [row for row in market.price_rows if row[16] == day2 and row[0] == "freshmart"][:12]
    market.price_rows += [
        (*row[:2], ONLY_ON_REPLACED_DAY + row[2], "Limited " + row[3], *row[4:6], None, *row[7:])
        for row in extra
    ]
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        catalog_tools.load_matching_market(conn, market)
    work = tmp_path_factory.mktemp("dbt_convergence")
    _build(catalog_tools, warehouse_settings, work, "--full-refresh")
    yield market, work
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        conn.execute("truncate raw.price_observations, raw.stores, raw.scrape_runs, raw.rejected_items")
        conn.commit()


def test_single_day_partition_run_rewrites_only_its_day(market_built, warehouse_settings):
    """One partition through Dagster: the day window reaches dbt, other days stay untouched."""
    from orchestration.defs.dbt.assets import catalog_dbt_models
    from orchestration.defs.dbt.resources import dbt_resource
    from orchestration.defs.resources import WarehouseResource

    market, _ = market_built
    day1, day2, day3 = market.days
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        before = {table: _row_versions(conn, table, column) for table, column in DAILY_FACTS.items()}

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [catalog_dbt_models],
            partition_key=day2.isoformat(),
            instance=instance,
            resources={"dbt": dbt_resource, "warehouse": WarehouseResource()},
            raise_on_error=False,
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    window = {"min_date": day2.isoformat(), "max_date": day2.isoformat()}
    assert f"dbt day window vars: {window}" in messages
    # the logged dbt command line carries the window (beside the settings' own vars, such as k)
    fragments = [json.dumps(window, sort_keys=True)[1:-1]]  # '"max_date": "...", "min_date": "..."'
    assert any("--vars" in message and all(f in message for f in fragments) for message in messages), (
        "the dbt command line in the run's log carries the vars"
    )

    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        after = {table: _row_versions(conn, table, column) for table, column in DAILY_FACTS.items()}
    for table in DAILY_FACTS:
        for day in (day1.isoformat(), day3.isoformat()):
            assert after[table][day] == before[table][day], f"{table} rows of {day} were rewritten"
        assert after[table][day2.isoformat()].isdisjoint(before[table][day2.isoformat()]), (
            f"{table} rows of the run's own day {day2} were not rebuilt"
        )


def test_replaced_partition_converges_with_a_full_refresh(market_built, warehouse_settings, catalog_tools):
    market, work = market_built
    day2 = market.days[1]
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        tracked_before = conn.execute(
            "select count(*) from intermediate.int_retailer_products_tracked"
        ).fetchone()[0]
        # The replacement partition: a third of day 2's products gone, the day-2-only ones included.
        conn.execute(
            "delete from raw.price_observations where scrape_date = %s "
            "and (retailer_product_id like %s or abs(hashtext(retailer_product_id)) %% 3 = 0)",
            (day2, ONLY_ON_REPLACED_DAY + "%"),
        )
        conn.commit()
        raw_products = conn.execute(
            "select count(distinct (retailer, retailer_product_id)) from raw.price_observations"
        ).fetchone()[0]

    _build(catalog_tools, warehouse_settings, work, *_window(day2, day2))
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        incremental = {table: _contents(conn, table) for table in INCREMENTAL_MODELS}
        tracked_after = conn.execute(
            "select count(*) from intermediate.int_retailer_products_tracked"
        ).fetchone()[0]
        forgotten = conn.execute(
            "select count(*) from catalog.dim_retailer_product where retailer_product_id like %s",
            (ONLY_ON_REPLACED_DAY + "%",),
        ).fetchone()[0]
    print(
        f"tracked retailer products: {tracked_before} before, {tracked_after} after; raw has {raw_products}"
    )
    assert tracked_after == raw_products < tracked_before
    assert forgotten == 0, "products seen only on the replaced day are gone from the mart"

    _build(catalog_tools, warehouse_settings, work, "--full-refresh")
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        full = {table: _contents(conn, table) for table in INCREMENTAL_MODELS}
    for table in INCREMENTAL_MODELS:
        only_incremental = sorted(set(incremental[table]) - set(full[table]))
        only_full = sorted(set(full[table]) - set(incremental[table]))
        assert not only_incremental and not only_full, (
            f"{table}: {len(only_incremental)} rows only in the incremental build "
            f"(e.g. {only_incremental[:2]}), {len(only_full)} only in the full refresh (e.g. {only_full[:2]})"
        )
