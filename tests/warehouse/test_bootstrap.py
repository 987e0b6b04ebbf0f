"""The embedded cluster and its bootstrap, against a real PostgreSQL."""

from __future__ import annotations

import os
import socket
import stat

import psycopg
import pytest

from warehouse.platform import cluster
from warehouse.platform.bootstrap import bootstrap
from warehouse.platform.config import DATABASES, Settings, database_name
from warehouse.platform.migrate import Migration, MigrationError, apply_migrations

pytestmark = pytest.mark.integration


def test_bootstrap_is_idempotent(warehouse_settings: Settings):
    report = bootstrap(warehouse_settings)
    assert report.migrations_applied == {db: [] for db in DATABASES}
    with psycopg.connect(warehouse_settings.database_url("catalog").rsplit("/", 1)[0] + "/postgres") as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {database_name(db) for db in DATABASES} <= names


def test_role_passwords_are_owner_only(warehouse_settings: Settings):
    mode = stat.S_IMODE(os.stat(warehouse_settings.secrets_file).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(warehouse_settings.secrets_file.parent).st_mode) == 0o700


def test_cluster_listens_on_loopback_with_private_socket_dir(warehouse_settings: Settings):
    state = cluster.read_cluster_state(warehouse_settings)
    assert cluster.is_running(warehouse_settings)
    assert stat.S_IMODE(os.stat(state.socket_dir).st_mode) == 0o700
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        listen = conn.execute("show listen_addresses").fetchone()[0]
    assert listen == "127.0.0.1"


def test_embedded_cluster_sizes_shared_buffers_to_a_quarter_of_memory(warehouse_settings: Settings):
    with psycopg.connect(warehouse_settings.database_url("catalog", role="smartcart_admin")) as conn:
        buffers = conn.execute(
            "select setting::bigint * 8192 / 1048576 from pg_settings where name = 'shared_buffers'"
        ).fetchone()[0]
        compression = conn.execute("show wal_compression").fetchone()[0]
    assert buffers == cluster.shared_buffers_mb()
    assert compression == "lz4"
    assert cluster.shared_buffers_mb(2 * 2**30) == 512
    assert cluster.shared_buffers_mb(256 * 2**20) == 128  # floor on tiny machines
    assert cluster.shared_buffers_mb(256 * 2**30) == 8192  # cap on big ones


def test_edited_migration_is_refused(warehouse_settings: Settings):
    with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as conn:
        conn.execute("drop schema if exists migration_probe cascade")
        conn.execute("delete from public.smartcart_schema_migrations where version = '9999'")
        import warehouse.platform.migrate as migrate

        original = migrate.migrations_for
        try:
            migrate.migrations_for = lambda db: [Migration("9999", "probe", "create schema migration_probe")]
            assert apply_migrations(conn, "catalog") == ["9999"]
            assert apply_migrations(conn, "catalog") == []
            migrate.migrations_for = lambda db: [
                Migration("9999", "probe", "create schema migration_probe_x")
            ]
            with pytest.raises(MigrationError, match="edited after it was applied"):
                apply_migrations(conn, "catalog")
        finally:
            migrate.migrations_for = original
            conn.execute("drop schema if exists migration_probe cascade")
            conn.execute("delete from public.smartcart_schema_migrations where version = '9999'")


def test_missing_server_binaries_name_the_fix(tmp_path):
    with pytest.raises(cluster.ClusterError) as info:
        cluster.find_server_binaries(env={"PATH": str(tmp_path)}, search_glob=str(tmp_path / "none" / "*"))
    message = str(info.value)
    assert "apt-get install postgresql" in message and "SMARTCART_PG_BIN" in message


def test_taken_port_names_the_variable(tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        monkeypatch.setenv("SMARTCART_PG_PORT", str(taken))
        with pytest.raises(cluster.ClusterError, match="SMARTCART_PG_PORT"):
            cluster._choose_port(Settings.from_env({"SMARTCART_HOME": str(tmp_path)}), None)
        monkeypatch.delenv("SMARTCART_PG_PORT")
        # Unset: a taken previous port is skipped for a free one.
        chosen = cluster._choose_port(Settings.from_env({"SMARTCART_HOME": str(tmp_path)}), taken)
        assert chosen != taken and cluster.port_is_free(chosen)


def test_external_url_replaces_embedded_database():
    settings = Settings.from_env(
        {"SMARTCART_HOME": "/tmp/x", "SMARTCART_CATALOG_URL": "postgresql://u:p@db:5432/c"}
    )
    assert not settings.is_embedded("catalog") and settings.is_embedded("vault")
    assert settings.database_url("catalog", "smartcart_analyst") == "postgresql://u:p@db:5432/c"
