"""Least privilege from warehouse/platform/access/roles.yml: every grant works and every denial holds."""

from __future__ import annotations

import psycopg
import pytest

from warehouse.platform.access.grants import AccessPolicy
from warehouse.platform.config import DATABASES, Settings

pytestmark = pytest.mark.integration

POLICY = AccessPolicy.load()


def _connect(settings: Settings, database: str, role: str) -> psycopg.Connection:
    return psycopg.connect(settings.database_url(database, role), autocommit=True)


@pytest.mark.parametrize("role", sorted(POLICY.roles))
@pytest.mark.parametrize("database", DATABASES)
def test_connect_only_where_declared(warehouse_settings: Settings, database: str, role: str):
    spec = POLICY.databases[database]
    allowed = role in spec.get("connect", []) or role == spec.get("owner")
    if allowed:
        with _connect(warehouse_settings, database, role) as conn:
            assert conn.execute("select current_user").fetchone()[0] == role
    else:
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            _connect(warehouse_settings, database, role)


def test_only_auth_writes_the_vault_and_only_backup_also_reads_it(warehouse_settings: Settings):
    assert sorted(POLICY.databases["vault"]["connect"]) == ["smartcart_auth", "smartcart_backup"]
    with _connect(warehouse_settings, "vault", "smartcart_auth") as conn:
        assert conn.execute("select count(*) from vault.users").fetchone()[0] >= 0
    with _connect(warehouse_settings, "vault", "smartcart_backup") as conn:
        assert conn.execute("select count(*) from vault.users").fetchone()[0] >= 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from vault.users")


SCHEMA_TABLES = {
    ("catalog", "raw"): "raw.price_observations",
    ("behavior", "raw"): "raw.app_events",
}


RAW_ACCESS_CASES = [
    (database, schema, role)
    for (database, schema) in sorted(SCHEMA_TABLES)
    for role in POLICY.databases[database]["connect"]  # the others cannot connect at all (tested above)
]


@pytest.mark.parametrize("database,schema,role", RAW_ACCESS_CASES)
def test_raw_reads_and_writes_follow_policy(
    warehouse_settings: Settings, database: str, schema: str, role: str
):
    level = POLICY.level(database, schema, role)
    table = SCHEMA_TABLES[(database, schema)]
    with _connect(warehouse_settings, database, role) as conn:
        if level in ("read", "write"):
            conn.execute(f"select count(*) from {table}")
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select count(*) from {table}")
        if level != "write":
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"delete from {table}")


def test_marts_built_by_transform_are_readable_by_buyers_not_writers(warehouse_settings: Settings):
    with _connect(warehouse_settings, "catalog", "smartcart_transform") as conn:
        conn.execute("drop table if exists catalog.access_probe")
        conn.execute("create table catalog.access_probe as select 1 as x")
    try:
        for role in ("smartcart_catalog_buyer", "smartcart_analyst", "smartcart_backup"):
            with _connect(warehouse_settings, "catalog", role) as conn:
                assert conn.execute("select x from catalog.access_probe").fetchone() == (1,)
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("insert into catalog.access_probe values (2)")
        with _connect(warehouse_settings, "catalog", "smartcart_scraper") as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select x from catalog.access_probe")
    finally:
        with _connect(warehouse_settings, "catalog", "smartcart_transform") as conn:
            conn.execute("drop table catalog.access_probe")


def test_trends_buyer_reads_trends_only(warehouse_settings: Settings):
    with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
        conn.execute("drop table if exists trends.access_probe")
        conn.execute("create table trends.access_probe as select 1 as x")
    try:
        with _connect(warehouse_settings, "behavior", "smartcart_trends_buyer") as conn:
            assert conn.execute("select x from trends.access_probe").fetchone() == (1,)
            for table in ("raw.app_events", "raw.event_files"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"select * from {table}")
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            _connect(warehouse_settings, "catalog", "smartcart_trends_buyer")
    finally:
        with _connect(warehouse_settings, "behavior", "smartcart_transform") as conn:
            conn.execute("drop table trends.access_probe")
