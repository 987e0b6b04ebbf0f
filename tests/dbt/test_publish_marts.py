"""Write-audit-publish (ADR 0024): a failed or killed dbt build never leaves the published mart mixed.

Against a real cluster and the real dbt project: the catalog marts are built into catalog_build and
published into catalog by the on-run-end hook. From an empty warehouse, day 1 is built and
published; then day 2's build is

- killed (SIGKILL) while it waits on a lock, after fct_prices_daily already committed day 2 in the
  build schema;
- failed by a model error (schema drift planted on fct_promotions) after other marts committed;
- built fine, but its publish fails half-way (a trigger raises on a late table's insert);

and after each, every published table is exactly day 1's (row count and a sum of row hashes per
table). A good run then publishes day 2: every published table equals its build table, readers can
read it, comments and indexes came along, and a re-run converges with no duplicates.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
PUBLISHED, BUILD = "catalog", "catalog_build"
BLOCKED_MODEL = "fct_promotions"  # incremental, downstream of fct_prices_daily: committed before it
TRIGGERED_MODEL = "fct_store_coverage"  # published after the dims and most facts (name order)


def _dbt_command(settings, work: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    from orchestration.defs.dbt.project import dbt_env

    env = {**os.environ, **dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--select", "tag:catalog", *args,
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--target", "catalog",
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    return command, env


def _dbt(settings, work: Path, *args: str) -> subprocess.CompletedProcess:
    command, env = _dbt_command(settings, work, *args)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, cwd=PROJECT_DIR)


def _window(day) -> tuple[str, str]:
    return "--vars", json.dumps({"min_date": day.isoformat(), "max_date": day.isoformat()})


def _tables(conn, schema: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select tablename from pg_tables where schemaname = %s and tablename not like '\\_%%' order by 1",
            (schema,),
        )
    ]


def _state(conn, schema: str) -> dict[str, tuple[int, str]]:
    """Per table: (rows, sum of row hashes): equal when the contents are equal, in any order."""
    state = {}
    for table in _tables(conn, schema):
        rows, digest = conn.execute(
            f'select count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text from "{schema}"."{table}" t'
        ).fetchone()
        state[table] = (rows, digest)
    return state


def _connect(settings):
    return psycopg.connect(settings.database_url("catalog"), autocommit=True)


@pytest.fixture(scope="module")
def published_day1(warehouse_settings, tmp_path_factory, catalog_tools):
    """An empty warehouse (no mart tables at all), day 1 landed, built and published."""
    market = catalog_tools.build_matching_market(seed=31, products=60, stores=2, days=2)
    day1, day2 = market.days
    only_day1 = dataclasses.replace(
        market,
        price_rows=[row for row in market.price_rows if row[16] == day1],
        store_rows=[row for row in market.store_rows if row[8] == day1],
        run_rows=[row for row in market.run_rows if row[3] == day1],
    )
    with _connect(warehouse_settings) as conn:
        for schema in (PUBLISHED, BUILD):
            for table in conn.execute(
                "select tablename from pg_tables where schemaname = %s", (schema,)
            ).fetchall():
                conn.execute(f'drop table "{schema}"."{table[0]}" cascade')
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        catalog_tools.load_matching_market(conn, only_day1)
    work = tmp_path_factory.mktemp("dbt_publish")
    result = _dbt(warehouse_settings, work, *_window(day1))
    assert result.returncode == 0, f"day 1 build failed:\n{result.stdout[-6000:]}"
    with _connect(warehouse_settings) as conn:
        day1_state = _state(conn, PUBLISHED)
    # day 2 lands in raw: every build below sees it
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        catalog_tools.load_matching_market(conn, market)
    yield market, work, day1_state
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        conn.execute("truncate raw.price_observations, raw.stores, raw.scrape_runs, raw.rejected_items")
        conn.commit()


def test_first_build_publishes_every_mart_model(published_day1, warehouse_settings):
    market, _, day1_state = published_day1
    with _connect(warehouse_settings) as conn:
        build_state = _state(conn, BUILD)
        pending = conn.execute(f"select count(*) from {BUILD}._publish_pending").fetchone()[0]
    # every table the manifest publishes, nothing else
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    marts = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("schema") == PUBLISHED
        and node["config"]["materialized"] in ("table", "incremental")
    }
    assert set(day1_state) == marts
    assert day1_state == build_state, "published tables differ from their build"
    assert day1_state["fct_prices_daily"][0] > 0
    assert pending == 0, "a successful publish clears the pending windows"


def test_killed_build_leaves_published_mart_as_it_was(published_day1, warehouse_settings):
    market, work, day1_state = published_day1
    day2 = market.days[1]
    command, env = _dbt_command(warehouse_settings, work, *_window(day2))
    with _connect(warehouse_settings) as holder:
        # Hold a lock on a late model's build table: dbt commits the models before it, then waits.
        holder.execute("begin")
        holder.execute(f"lock table {BUILD}.{BLOCKED_MODEL} in access exclusive mode")
        dbt = subprocess.Popen(
            command, env=env, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 900
            with _connect(warehouse_settings) as probe:
                while time.monotonic() < deadline:
                    waiting = probe.execute(
                        "select count(*) from pg_stat_activity where usename = 'smartcart_transform' "
                        "and wait_event_type = 'Lock' and query ilike %s",
                        (f"%{BLOCKED_MODEL}%",),
                    ).fetchone()[0]
                    if waiting:
                        break
                    assert dbt.poll() is None, "dbt ended before it reached the blocked model"
                    time.sleep(1)
                else:
                    pytest.fail(f"dbt never reached {BLOCKED_MODEL}")
                built_day2 = probe.execute(
                    f"select count(*) from {BUILD}.fct_prices_daily where price_date = %s", (day2,)
                ).fetchone()[0]
            assert built_day2 > 0, "the build schema already holds day 2 (committed part-way)"
            dbt.send_signal(signal.SIGKILL)
            dbt.wait(timeout=60)
        finally:
            if dbt.poll() is None:
                dbt.kill()
            # the killed client's server-side queries end with it
            holder.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'smartcart_transform'"
            )
            holder.execute("rollback")
    with _connect(warehouse_settings) as conn:
        assert _state(conn, PUBLISHED) == day1_state, "a killed build changed the published mart"
        assert conn.execute(
            f"select count(*) from {BUILD}._publish_pending where from_date = %s", (day2,)
        ).fetchone()[0], "the killed build's window waits for the next publish"


def test_model_error_skips_the_publish(published_day1, warehouse_settings):
    market, work, day1_state = published_day1
    day2 = market.days[1]
    with _connect(warehouse_settings) as conn:
        # schema drift: on_schema_change='fail' makes the model error after its upstream committed
        conn.execute(f"alter table {BUILD}.{BLOCKED_MODEL} add column planted_error integer")
    try:
        result = _dbt(warehouse_settings, work, *_window(day2))
    finally:
        with _connect(warehouse_settings) as conn:
            conn.execute(f"alter table {BUILD}.{BLOCKED_MODEL} drop column planted_error")
    assert result.returncode != 0
    assert "publish of catalog skipped" in result.stdout, result.stdout[-4000:]
    with _connect(warehouse_settings) as conn:
        assert _state(conn, PUBLISHED) == day1_state, "a failed build changed the published mart"


def test_publish_is_one_transaction(published_day1, warehouse_settings):
    market, work, day1_state = published_day1
    day2 = market.days[1]
    with _connect(warehouse_settings) as conn:
        conn.execute(
            "create function public.refuse_publish() returns trigger language plpgsql as "
            "$$ begin raise exception 'publish refused (test)'; end $$"
        )
        conn.execute(
            f"create trigger refuse_publish before insert on {PUBLISHED}.{TRIGGERED_MODEL} "
            "for each statement execute function public.refuse_publish()"
        )
    try:
        result = _dbt(warehouse_settings, work, *_window(day2))
    finally:
        with _connect(warehouse_settings) as conn:
            conn.execute(f"drop trigger refuse_publish on {PUBLISHED}.{TRIGGERED_MODEL}")
            conn.execute("drop function public.refuse_publish()")
    assert result.returncode != 0
    assert "publish refused (test)" in result.stdout, result.stdout[-4000:]
    with _connect(warehouse_settings) as conn:
        # the tables published before the failing one were rolled back with it
        assert _state(conn, PUBLISHED) == day1_state, "a failed publish left part of its copy behind"
        build_state = _state(conn, BUILD)
    assert build_state["fct_prices_daily"] != day1_state["fct_prices_daily"], "the build did hold day 2"


def test_good_run_publishes_day2_consistently_and_converges(published_day1, warehouse_settings):
    market, work, day1_state = published_day1
    day2 = market.days[1]
    for attempt in range(2):  # the second run re-publishes the same window: no duplicates
        result = _dbt(warehouse_settings, work, *_window(day2))
        assert result.returncode == 0, f"run {attempt + 1} failed:\n{result.stdout[-6000:]}"
        with _connect(warehouse_settings) as conn:
            published, built = _state(conn, PUBLISHED), _state(conn, BUILD)
            assert published == built, {
                t: (published[t], built.get(t)) for t in published if published[t] != built.get(t)
            }
            days = dict(
                conn.execute(
                    f"select price_date, count(*) from {PUBLISHED}.fct_prices_daily group by 1"
                ).fetchall()
            )
            duplicates = conn.execute(
                f"select count(*) - count(distinct (price_date, store_key, retailer_product_key)) "
                f"from {PUBLISHED}.fct_prices_daily"
            ).fetchone()[0]
        assert set(days) == set(market.days) and duplicates == 0
        assert published["fct_prices_daily"] != day1_state["fct_prices_daily"]

    with _connect(warehouse_settings) as conn:
        # persist_docs comments, the build's indexes, the readers' grants: all on the published table
        for table in ("fct_prices_daily", "dim_store"):
            comments = conn.execute(
                "select obj_description(%s::regclass, 'pg_class'), obj_description(%s::regclass, 'pg_class')",
                (f"{BUILD}.{table}", f"{PUBLISHED}.{table}"),
            ).fetchone()
            assert comments[0] and comments[0] == comments[1]
            column_comments = conn.execute(
                "select count(*) filter (where col_description(b.attrelid, b.attnum) is not null), "
                "count(*) filter (where col_description(b.attrelid, b.attnum) "
                "is distinct from col_description(p.attrelid, p.attnum)) "
                "from pg_attribute b join pg_attribute p on p.attname = b.attname "
                "and p.attrelid = %s::regclass where b.attrelid = %s::regclass and b.attnum > 0",
                (f"{PUBLISHED}.{table}", f"{BUILD}.{table}"),
            ).fetchone()
            assert column_comments[0] > 0 and column_comments[1] == 0
        # every key and index of the build, by definition (a table model's key names change per build)
        indexes = {
            schema: dict(
                conn.execute(
                    "select regexp_replace(indexdef, '^.*? USING ', ''), indexname from pg_indexes "
                    "where schemaname = %s and tablename = %s",
                    (schema, table),
                ).fetchall()
            )
            for schema in (BUILD, PUBLISHED)
            for table in ("fct_prices_daily",)
        }
        assert indexes[BUILD].keys() <= indexes[PUBLISHED].keys()
        assert "fct_prices_daily_series_idx" in indexes[PUBLISHED].values()
        for table in ("dim_category", "fct_current_prices"):
            keys = [
                conn.execute(
                    "select count(*) from pg_constraint where conrelid = %s::regclass and contype = 'p'",
                    (f"{schema}.{table}",),
                ).fetchone()[0]
                for schema in (BUILD, PUBLISHED)
            ]
            assert keys == [1, 1], f"{table}: primary keys (build, published) {keys}"
    with psycopg.connect(warehouse_settings.database_url("catalog", "smartcart_catalog_buyer")) as buyer:
        assert buyer.execute(f"select count(*) from {PUBLISHED}.fct_prices_daily").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            buyer.execute(f"select count(*) from {BUILD}.fct_prices_daily")
