"""Privacy denials beyond tests/warehouse/test_access.py (which proves CONNECT per database,
raw read/write per role, and the trends buyer's reach into raw.app_events/event_files).

Here: inside the vault, smartcart_auth cannot step outside its schema; nobody but
smartcart_auth reaches the vault even with its URL; the trends buyer and the analyst read no
anonymous-id table (raw, staging intermediates, catalog_ref); writers stay in their lane.
"""

from __future__ import annotations

import psycopg
import pytest

from warehouse.platform.access.grants import AccessPolicy
from warehouse.platform.config import Settings

pytestmark = pytest.mark.integration

POLICY = AccessPolicy.load()


def _connect(settings: Settings, database: str, role: str) -> psycopg.Connection:
    return psycopg.connect(settings.database_url(database, role), autocommit=True)


# CONNECT denials (the vault role to every other database, every other role to the vault) are
# test_connect_only_where_declared in tests/warehouse/test_access.py, one test per pair.


@pytest.mark.parametrize(
    "statement",
    [
        "create table public.escape_hatch (x int)",
        "create schema escape_hatch",
        "create temporary table escape_hatch (x int)",
        "create table vault.escape_hatch (x int)",
        "drop table vault.audit_log",
        "select * from public.smartcart_schema_migrations",
    ],
)
def test_vault_role_cannot_step_outside_its_data(warehouse_settings, statement):
    with _connect(warehouse_settings, "vault", "smartcart_auth") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


# Tables that carry anonymous ids (or feed from them) in the behaviour database.
ANONYMOUS_ID_TABLES = ("raw.app_events", "raw.trend_consents", "raw.event_files", "raw.rejected_event_files")
BEHAVIOR_SCHEMAS_NOT_FOR_BUYERS = ("raw", "staging", "catalog_ref")


@pytest.mark.parametrize("role", ["smartcart_trends_buyer", "smartcart_analyst"])
@pytest.mark.parametrize("table", ANONYMOUS_ID_TABLES + ("catalog_ref.products",))
def test_readers_are_denied_raw_behaviour_and_catalog_ref(warehouse_settings, role, table):
    with _connect(warehouse_settings, "behavior", role) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select * from {table} limit 1")


@pytest.mark.parametrize("role", ["smartcart_trends_buyer", "smartcart_analyst", "smartcart_ingest"])
def test_intermediates_with_anonymous_ids_are_hidden(warehouse_settings, role):
    with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
        conn.execute("drop table if exists staging.privacy_probe")
        conn.execute("create table staging.privacy_probe as select gen_random_uuid() as anonymous_user_id")
    try:
        with _connect(warehouse_settings, "behavior", role) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from staging.privacy_probe")
    finally:
        with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
            conn.execute("drop table staging.privacy_probe")


def test_trends_buyer_reads_trends_and_cannot_write_it(warehouse_settings):
    with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
        conn.execute("drop table if exists trends.buyer_probe")
        conn.execute("create table trends.buyer_probe as select 10::bigint as shoppers")
    try:
        with _connect(warehouse_settings, "behavior", "smartcart_trends_buyer") as conn:
            assert conn.execute("select shoppers from trends.buyer_probe").fetchone() == (10,)
            for statement in (
                "insert into trends.buyer_probe values (1)",
                "create table trends.mine (x int)",
                "create table staging.mine (x int)",
                "create temporary table mine (x int)",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    finally:
        with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
            conn.execute("drop table trends.buyer_probe")


def test_ingest_writes_raw_only_and_transform_cannot_write_raw(warehouse_settings):
    with _connect(warehouse_settings, "behavior", "smartcart_ingest") as conn:
        for statement in ("select * from catalog_ref.products", "create table trends.x (y int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
        for statement in ("delete from raw.app_events", "delete from raw.trend_consents"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        conn.execute("select count(*) from catalog_ref.products")  # it publishes catalog_ref
