"""Trends end to end on simulated shoppers: consent filter, k-threshold, no identifier anywhere, erasure.

The catalog side is stood in by rows written straight into catalog_ref (what the catalog_ref
asset publishes), so this runs without a crawl; the trends models are built by dbt itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import psycopg
import pytest

from orchestration.cli import main as smartcart
from orchestration.defs.dbt.project import DBT_PROJECT_DIR, dbt_env, dbt_executable
from orchestration.demo.trends import trends_table_names
from warehouse.demo.simulator import SimulationConfig, simulate, synthetic_catalog
from warehouse.landing.ingestion import ingest_dropzone
from warehouse.vault import Vault
from warehouse.vault.leaks import find_identifier_leaks, find_trends_rows_under_k

pytestmark = [pytest.mark.integration, pytest.mark.slow]

K = 10
# The tables the trends delivery ships, from the dbt manifest (as the delivery reads them).
TRENDS_TABLES = tuple(trends_table_names())


def dbt_build_trends(settings, k: int = K) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="dbt-trends-") as target:
        return subprocess.run(
            [
                dbt_executable(), "build", "--target", "behavior", "--select", "tag:trends",
                "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", target, "--vars", f"{{k_threshold: {k}}}",
            ],
            env={**os.environ, **dbt_env(settings), "DBT_LOG_PATH": target},
            capture_output=True, text=True, cwd=DBT_PROJECT_DIR,
        )  # fmt: skip


def _admin(settings):
    return psycopg.connect(settings.database_url("behavior"))


@pytest.fixture(scope="module")
def trends_world(warehouse_settings, tmp_path_factory):
    settings = warehouse_settings
    catalog = synthetic_catalog(products=120, seed=3)
    with _admin(settings) as conn:
        conn.execute("truncate catalog_ref.products, catalog_ref.stores, catalog_ref.current_prices")
        for product_key, category_path in catalog.products:
            conn.execute(
                "insert into catalog_ref.products (product_key, product_name, category_path, category)"
                " values (%s, %s, %s, split_part(%s, ' > ', 1))",
                (product_key, f"Product {product_key[:6]}", category_path, category_path),
            )
        stores = [(f"store-{region}-{i}", region) for region in catalog.regions for i in range(2)]
        for store_key, region in stores:
            conn.execute(
                "insert into catalog_ref.stores (store_key, retailer, store_name, region) values (%s, 'freshmart', %s, %s)",
                (store_key, store_key, region),
            )
        for n, (product_key, _) in enumerate(catalog.products):
            for m, (store_key, _) in enumerate(stores):
                if (n + m) % 7:  # not every store stocks everything
                    conn.execute(
                        "insert into catalog_ref.current_prices values (%s, %s, current_date, %s, null)",
                        (store_key, product_key, 1 + (n * 37 + m * 11) % 900 / 100),
                    )
    dropzone = tmp_path_factory.mktemp("dropzone")
    simulation = simulate(
        settings,
        SimulationConfig(users=400, weeks=2, seed=11, erasure_rate=0.02, events_per_file=5_000),
        catalog=catalog,
        dropzone=dropzone,
    )
    summary = ingest_dropzone(settings, dropzone, settle=0)  # the simulator renames complete files in
    assert summary.count("rejected") == 0, [f.reasons for f in summary.files]
    with _admin(settings) as conn:  # what the optimizer batch (issue 6) writes for each requested list
        conn.execute("delete from raw.optimizer_batch_results")
        conn.execute(
            "insert into raw.optimizer_batch_results (list_id, anonymous_user_id, region, price_date, items,"
            " status, stores_used, split_total, best_single_store_total, saving)"
            " select payload->>'list_id', anonymous_user_id, payload->>'region', current_date, 8, 'optimal',"
            " 2, 40 + length(event_id) % 7, 45 + length(event_id) % 5, 5 - (length(event_id) % 7 - length(event_id) % 5)"
            " from raw.app_events where event_type = 'optimizer_request'"
        )
    build = dbt_build_trends(settings)
    assert build.returncode == 0, build.stdout[-4000:]
    return simulation, summary, dropzone


def test_simulation_loads_every_file_and_drops_pii_and_erased(trends_world):
    simulation, summary, _ = trends_world
    assert summary.count("loaded") == len(simulation.files) >= 2
    assert sum(f.fields_dropped for f in summary.files) > 0  # emails and device IPs the app sent
    assert sum(f.events_dropped_erased for f in summary.files) > 0
    assert summary.events_loaded + sum(f.events_dropped_erased for f in summary.files) == simulation.events


def test_trends_tables_are_populated_and_every_cell_holds_k(trends_world, warehouse_settings):
    with psycopg.connect(warehouse_settings.database_url("behavior", "smartcart_trends_buyer")) as conn:
        counts = {t: conn.execute(f"select count(*) from trends.{t}").fetchone()[0] for t in TRENDS_TABLES}
    assert counts["trends_category_demand_weekly"] > 0 and counts["trends_basket_spend_bands"] > 0
    assert counts["trends_substitution_flows"] > 0 and counts["trends_store_choice"] > 0
    assert counts["trends_split_savings"] > 0
    assert find_trends_rows_under_k(warehouse_settings, K) == []


def test_no_vault_identifier_anywhere_in_the_behaviour_database(trends_world, warehouse_settings):
    assert find_identifier_leaks(warehouse_settings) == []


def test_leak_scanner_catches_planted_identifiers(trends_world, warehouse_settings):
    simulation, _, _ = trends_world
    with Vault.open(warehouse_settings) as vault:
        user = vault.get_user(simulation.app_user_ids[5], purpose="test")
    with _admin(warehouse_settings) as conn:
        conn.execute("create table staging.leak_probe (note text, doc jsonb)")
        conn.execute(
            "insert into staging.leak_probe values (%s, %s), ('fine', %s)",
            (
                user.email.upper(),
                json.dumps({"a": [{"b": user.app_user_id}]}),
                json.dumps({user.username: 1}),
            ),
        )
    try:
        leaks = {(leak.table, leak.column): leak.rows for leak in find_identifier_leaks(warehouse_settings)}
        assert leaks == {("staging.leak_probe", "note"): 1, ("staging.leak_probe", "doc"): 2}
    finally:
        with _admin(warehouse_settings) as conn:
            conn.execute("drop table staging.leak_probe")


def test_under_k_detector_catches_small_cells_and_anonymous_ids(trends_world, warehouse_settings):
    with _admin(warehouse_settings) as conn:
        conn.execute("create table trends.k_probe as select 'NSW'::text as region, 3::bigint as shoppers")
        conn.execute("create table trends.id_probe as select gen_random_uuid() as anonymous_user_id")
    try:
        problems = " | ".join(find_trends_rows_under_k(warehouse_settings, K))
        assert "trends.k_probe: 1 row(s) count fewer than k=10" in problems
        assert "trends.id_probe carries an anonymous id column" in problems
    finally:
        with _admin(warehouse_settings) as conn:
            conn.execute("drop table trends.k_probe, trends.id_probe")


def test_only_consenting_shoppers_reach_the_trends_build(trends_world, warehouse_settings):
    with _admin(warehouse_settings) as conn:
        declined_in_build = conn.execute(
            "select count(*) from staging.int_trends__consented_events e"
            " join raw.trend_consents c using (anonymous_user_id) where not c.trend_sharing"
        ).fetchone()[0]
        unknown_in_build = conn.execute(
            "select count(*) from staging.int_trends__consented_events e"
            " where not exists (select 1 from raw.trend_consents c"
            "   where c.anonymous_user_id = e.anonymous_user_id and c.trend_sharing)"
        ).fetchone()[0]
        declined_with_events = conn.execute(
            "select count(distinct a.anonymous_user_id) from raw.app_events a"
            " join raw.trend_consents c using (anonymous_user_id) where not c.trend_sharing"
        ).fetchone()[0]
    assert declined_with_events > 0
    assert declined_in_build == 0 and unknown_in_build == 0


def test_revoking_consent_removes_a_shopper_at_the_next_build(trends_world, warehouse_settings):
    simulation, _, _ = trends_world
    with Vault.open(warehouse_settings) as vault:
        pseudonyms = vault.pseudonymize(simulation.app_user_ids, purpose="test")
        consents = {a: s for a, s, _ in vault.trend_consents()}
        app_id = next(
            i for i in simulation.app_user_ids
            if not pseudonyms[i].erased and consents.get(pseudonyms[i].anonymous_user_id)
        )  # fmt: skip
        anon = pseudonyms[app_id].anonymous_user_id
        vault.set_consent(app_id, "trend_sharing", False)
    ingest_dropzone(warehouse_settings, trends_world[2], settle=0)  # republishes consents
    assert dbt_build_trends(warehouse_settings).returncode == 0
    with _admin(warehouse_settings) as conn:
        assert conn.execute(
            "select count(*) from staging.int_trends__consented_events where anonymous_user_id = %s", (anon,)
        ).fetchone() == (0,)
        assert (
            conn.execute(
                "select count(*) from raw.app_events where anonymous_user_id = %s", (anon,)
            ).fetchone()[0]
            > 0
        )  # still held (consent is about trends), but not in the build


def test_erasure_leaves_no_row_of_the_user_after_the_next_build(trends_world, warehouse_settings, capsys):
    simulation, _, _ = trends_world
    with Vault.open(warehouse_settings) as vault:
        pseudonyms = vault.pseudonymize(simulation.app_user_ids, purpose="test")
        consents = {a: s for a, s, _ in vault.trend_consents()}
        app_id = next(
            i for i in reversed(simulation.app_user_ids)
            if not pseudonyms[i].erased and consents.get(pseudonyms[i].anonymous_user_id)
        )  # fmt: skip
        anon = pseudonyms[app_id].anonymous_user_id
    with _admin(warehouse_settings) as conn:
        before = conn.execute(
            "select count(*) from raw.app_events where anonymous_user_id = %s", (anon,)
        ).fetchone()[0]
        in_build = conn.execute(
            "select count(*) from staging.int_trends__consented_events where anonymous_user_id = %s", (anon,)
        ).fetchone()[0]
    assert before > 0 and in_build > 0
    with _admin(warehouse_settings) as conn:
        assert (
            conn.execute(
                "select count(*) from raw.optimizer_batch_results where anonymous_user_id = %s", (anon,)
            ).fetchone()[0]
            > 0
        )
    assert smartcart(["users", "erase", app_id]) == 0
    assert f"{before} behaviour rows deleted" in capsys.readouterr().out
    assert dbt_build_trends(warehouse_settings).returncode == 0
    with _admin(warehouse_settings) as conn:
        for table in (
            "raw.app_events",
            "raw.trend_consents",
            "raw.optimizer_batch_results",
            "staging.int_trends__consented_events",
            "staging.int_trends__basket_items",
        ):
            assert conn.execute(
                f"select count(*) from {table} where anonymous_user_id = %s", (anon,)
            ).fetchone() == (0,), table
    with Vault.open(warehouse_settings) as vault:
        user = vault.get_user(app_id)
        assert user.erased_at and user.username.startswith("erased-")
        assert (
            app_id not in vault.pseudonymize([app_id], "test")
            or vault.pseudonymize([app_id], "test")[app_id].erased
        )
    assert find_identifier_leaks(warehouse_settings) == []
    assert find_trends_rows_under_k(warehouse_settings, K) == []


def _run_trends_delivery(settings):
    import dagster as dg

    from orchestration.dagster_instance import prepare_dagster_env

    prepare_dagster_env(settings)
    from orchestration.definitions import defs

    job = defs.resolve_job_def("trends_delivery_job")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def test_trends_delivery_holds_no_identifier_and_no_cell_under_k(trends_world, warehouse_settings):
    import duckdb

    from orchestration.run_reports import failure_messages
    from warehouse.publishing.deliveries import verify_delivery
    from warehouse.vault import Vault

    result = _run_trends_delivery(warehouse_settings)
    assert result.success, failure_messages(result)
    delivery = (warehouse_settings.deliveries_dir / "trends" / "latest").resolve()
    assert verify_delivery(delivery) == []
    assert (delivery / "quality_report" / "index.html").exists()
    with Vault.open(warehouse_settings) as vault:
        identifiers = {v.lower() for v in vault.identifying_values(purpose="test:trends_delivery")}
    with duckdb.connect(str(delivery / "trends.duckdb"), read_only=True) as con:
        con.execute("set file_search_path = ?", [str(delivery)])
        for table in TRENDS_TABLES:
            columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
            assert not any(c in columns for c in ("anonymous_user_id", "user_id", "email", "username"))
            smallest = con.execute(f"select min(shoppers) from {table}").fetchone()[0]
            assert smallest is None or smallest >= K
            for column in columns:
                values = {
                    str(v[0]).lower()
                    for v in con.execute(f'select distinct "{column}" from {table}').fetchall()
                }
                assert not values & identifiers, f"{table}.{column} holds a vault identifier"


def test_privacy_gate_blocks_a_trends_delivery_with_a_planted_email(trends_world, warehouse_settings):
    from orchestration.run_reports import failure_messages
    from warehouse.vault import Vault

    with Vault.open(warehouse_settings) as vault:
        email = next(v for v in vault.identifying_values(purpose="test:plant") if "@" in v)
    before = sorted((warehouse_settings.deliveries_dir / "trends").glob("2*"))
    with _admin(warehouse_settings) as conn:
        original = conn.execute(
            "select category from trends.trends_category_demand_weekly limit 1"
        ).fetchone()[0]
        conn.execute(
            "update trends.trends_category_demand_weekly set category = %s where category = %s",
            (email, original),
        )
    try:
        result = _run_trends_delivery(warehouse_settings)
        assert not result.success
        [message] = failure_messages(result)
        assert "trends delivery blocked" in message and "identifier leak" in message
        assert sorted((warehouse_settings.deliveries_dir / "trends").glob("2*")) == before
    finally:
        with _admin(warehouse_settings) as conn:
            conn.execute(
                "update trends.trends_category_demand_weekly set category = %s where category = %s",
                (original, email),
            )
