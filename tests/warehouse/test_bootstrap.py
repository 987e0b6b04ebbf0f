"""The embedded cluster and its bootstrap, against a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import psycopg
import pytest

from warehouse.platform import cluster, server_settings
from warehouse.platform.bootstrap import bootstrap
from warehouse.platform.config import DATABASES, ConfigurationError, Settings, database_name
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


def test_embedded_cluster_memory_follows_its_budget(warehouse_settings: Settings):
    """The fixture gives the test cluster a small budget (SMARTCART_PG_MEMORY); the server uses it."""
    expected = server_settings.memory_settings()
    with psycopg.connect(warehouse_settings.database_url("catalog", role="smartcart_admin")) as conn:
        live = {
            name: conn.execute("select pg_size_bytes(current_setting(%s))", (name,)).fetchone()[0]
            for name in expected
        }
        compression = conn.execute("show wal_compression").fetchone()[0]
    assert live == {name: int(value.removesuffix("MB")) * 2**20 for name, value in expected.items()}
    assert os.environ.get("SMARTCART_PG_MEMORY")  # set by the fixture: small, not a quarter of RAM
    assert compression == "lz4"


def test_memory_budget_is_laptop_sized_and_configurable():
    gib = 2**30
    # Default: a quarter of the machine, at most 4 GB, a quarter of that for shared_buffers.
    assert server_settings.memory_settings({}, 8 * gib)["shared_buffers"] == "512MB"
    assert server_settings.memory_settings({}, 256 * gib)["shared_buffers"] == "1024MB"
    assert server_settings.memory_settings({}, 1 * gib)["shared_buffers"] == "128MB"  # floor
    budget = server_settings.memory_settings({"SMARTCART_PG_MEMORY": "8GB"}, 4 * gib)
    assert budget["shared_buffers"] == "2048MB" and budget["maintenance_work_mem"] == "1024MB"
    explicit = {"SMARTCART_PG_MEMORY": "1GB", "SMARTCART_PG_SHARED_BUFFERS": "300MB"}
    assert server_settings.memory_settings(explicit, 64 * gib)["shared_buffers"] == "300MB"
    with pytest.raises(ConfigurationError, match="SMARTCART_PG_MEMORY='lots'.*512MB"):
        server_settings.memory_settings({"SMARTCART_PG_MEMORY": "lots"})


def test_settings_are_rewritten_at_start_and_override_old_auto_conf(tmp_path):
    """Clusters made by older code had synchronous_commit = off in postgresql.auto.conf."""
    (tmp_path / "postgresql.conf").write_text("port = 5432\n")
    (tmp_path / "postgresql.auto.conf").write_text("synchronous_commit = off\nwork_mem = '1GB'\nfoo = 1\n")
    settings = server_settings.server_settings({"SMARTCART_PG_MEMORY": "1GB"})
    server_settings.write_server_settings(tmp_path, settings)
    server_settings.write_server_settings(tmp_path, settings)
    assert (tmp_path / "postgresql.conf").read_text().count("smartcart.conf") == 1
    assert (tmp_path / "postgresql.auto.conf").read_text().strip() == "foo = 1"
    assert "synchronous_commit = on" in (tmp_path / "smartcart.conf").read_text()
    with pytest.raises(ConfigurationError, match="SMARTCART_PG_WAL_LEVEL"):
        server_settings.server_settings({"SMARTCART_PG_WAL_LEVEL": "logical!"})


def test_durability_settings_are_live(warehouse_settings: Settings):
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        live = {
            name: conn.execute(f"show {name}").fetchone()[0]
            for name in ("synchronous_commit", "fsync", "full_page_writes", "wal_level")
        }
        interval = conn.execute("show client_connection_check_interval").fetchone()[0]
    assert live == {
        "synchronous_commit": "on",
        "fsync": "on",
        "full_page_writes": "on",
        "wal_level": "minimal",
    }
    assert interval == "2s"


def test_edited_migration_is_refused(warehouse_settings: Settings):
    with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as conn:
        conn.execute("drop schema if exists migration_probe cascade")
        conn.execute("delete from public.smartcart_schema_migrations where version = '9999'")
        import warehouse.platform.migrate as migrate

        original = migrate.migrations_for
        try:
            migrate.migrations_for = lambda db, root=None: [
                Migration("9999", "probe", "create schema migration_probe")
            ]
            assert apply_migrations(conn, "catalog") == ["9999"]
            assert apply_migrations(conn, "catalog") == []
            migrate.migrations_for = lambda db, root=None: [
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


def _ledger(conn) -> set[str]:
    return {row[0] for row in conn.execute("select version from public.smartcart_schema_migrations")}


def test_a_failed_migration_leaves_the_database_as_it_was(warehouse_settings: Settings, tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "9990_probe_schema.sql").write_text("create schema migration_probe_ok;\n")
    (folder / "9991_probe_broken.sql").write_text(
        "create table migration_probe_ok.half (id int primary key);\n"
        "insert into migration_probe_ok.half values (1), (2);\n"
        "alter table raw.scrape_runs add column migration_probe_col int;\n"
        "select 1 / 0;  -- the deliberate bug\n"
    )
    with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as conn:
        try:
            with pytest.raises(
                MigrationError, match="9991_probe_broken failed and was rolled back.*division by zero"
            ):
                apply_migrations(conn, "catalog", root=tmp_path)
            assert "9990" in _ledger(conn) and "9991" not in _ledger(conn)
            assert conn.execute("select to_regclass('migration_probe_ok.half')").fetchone()[0] is None
            columns = {r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = 'scrape_runs'"
            )}  # fmt: skip
            assert "migration_probe_col" not in columns
            # Fixed, it applies on the next run (it was never recorded, so editing it is allowed).
            (folder / "9991_probe_broken.sql").write_text("create table migration_probe_ok.half (id int);\n")
            assert apply_migrations(conn, "catalog", root=tmp_path) == ["9991"]
        finally:
            conn.execute("drop schema if exists migration_probe_ok cascade")
            conn.execute("delete from public.smartcart_schema_migrations where version in ('9990', '9991')")


def test_a_migration_that_ends_its_own_transaction_is_refused_before_it_runs(warehouse_settings, tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "9993_probe_commit.sql").write_text(
        "create schema migration_probe_commit;\ncommit;\nselect 1 / 0;\n"
    )
    with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as conn:
        with pytest.raises(MigrationError, match="'commit' would end the migration's own transaction"):
            apply_migrations(conn, "catalog", root=tmp_path)
        assert conn.execute("select to_regnamespace('migration_probe_commit')").fetchone()[0] is None
    # Keywords inside PL/pgSQL bodies, strings and comments are not transaction control.
    from warehouse.platform.migrate import MIGRATIONS_DIR, migrations_for, transaction_control_statements

    for database in ("vault", "catalog", "behavior"):
        assert migrations_for(database, MIGRATIONS_DIR)
    body = "do $$ begin perform 1; end $$;\n-- commit;\nselect 'rollback;';\nBEGIN ;"
    assert transaction_control_statements(body) == ["BEGIN"]


def test_root_with_a_home_the_server_user_cannot_enter_is_told_what_to_do():
    """As root, a SMARTCART_HOME inside a 0700 root-only folder (mktemp -d) fails before initdb."""
    if os.geteuid() != 0:
        pytest.skip("only root hands the server to the postgres OS user")
    private = Path(tempfile.mkdtemp())  # what `mktemp -d` makes: /tmp/tmp.XXXX, mode 0700, root's
    try:
        home = private / "home"
        settings = Settings.from_env({"SMARTCART_HOME": str(home)})
        with pytest.raises(cluster.ClusterError, match=f"cannot enter {private}.*chmod o\\+x {private}"):
            cluster.start(settings, roles=[])
        assert not (home / "postgres" / "data" / "PG_VERSION").exists()
        # Following the advice works: the server user can now reach the home.
        os.chmod(private, 0o711)
        cluster._check_traversable(home)
    finally:
        shutil.rmtree(private, ignore_errors=True)
