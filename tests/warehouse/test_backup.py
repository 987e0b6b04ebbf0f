"""Backups that restore: pg_dump as the backup role, a manifest, restore into a fresh cluster.

The session cluster (tests/conftest.py) is backed up; a second, fresh cluster of this module's own
receives the restore, and every table of all four databases must match: row count and a checksum
of its content.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import psycopg
import pytest

from warehouse.platform import backup
from warehouse.platform.access.grants import AccessPolicy
from warehouse.platform.config import DATABASES, Settings
from warehouse.platform.migrate import migrations_for

pytestmark = pytest.mark.integration

POLICY = AccessPolicy.load()


def table_fingerprints(settings: Settings, database: str) -> dict[str, tuple[int, str]]:
    """(row count, md5 over the sorted md5 of every row) for every table of the database."""
    with psycopg.connect(settings.database_url(database)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "select format('%I.%I', n.nspname, c.relname) from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' "
                "and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%' "
                "order by 1"
            )
        ]
        return {
            table: conn.execute(
                f"select count(*), coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') "
                f"from {table} t"
            ).fetchone()
            for table in tables
        }


@pytest.fixture(scope="module")
def populated(warehouse_settings: Settings) -> Settings:
    """Rows in every database, including the vault and Dagster's, and a used sequence."""
    with psycopg.connect(warehouse_settings.database_url("vault", "smartcart_auth")) as conn:
        conn.execute(
            "insert into vault.users (username, email, password_hash) values ('backup-probe', "
            "'probe@example.invalid', 'x') on conflict do nothing"
        )
    with psycopg.connect(warehouse_settings.database_url("dagster", "smartcart_dagster")) as conn:
        conn.execute("create table if not exists public.backup_probe (id serial primary key, note text)")
        conn.execute(
            "insert into public.backup_probe (note) select 'run ' || g from generate_series(1, 50) g"
        )
    for database in ("catalog", "behavior"):
        with psycopg.connect(warehouse_settings.database_url(database)) as conn:
            conn.execute(
                "create table if not exists public.backup_probe (id serial primary key, payload jsonb)"
            )
            conn.execute(
                "insert into public.backup_probe (payload) "
                "select jsonb_build_object('n', g, 'text', repeat('é', g % 7)) from generate_series(1, 200) g"
            )
    return warehouse_settings


@pytest.fixture(scope="module")
def backup_set(populated: Settings, tmp_path_factory) -> backup.BackupSet:
    return backup.backup(populated, DATABASES, to=tmp_path_factory.mktemp("backups"), keep=3)


def test_backup_writes_owner_only_archives_and_a_manifest(backup_set: backup.BackupSet):
    directory = backup_set.directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    manifest = json.loads((directory / "manifest.json").read_text())
    assert sorted(manifest["databases"]) == sorted(DATABASES)
    assert manifest["server_version"].split(".")[0].isdigit()
    for database, entry in manifest["databases"].items():
        path = directory / entry["file"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the vault's holds PII; all are owner-only
        assert entry["bytes"] == path.stat().st_size > 0
        assert entry["sha256"] == backup._sha256(path)
        known = migrations_for(database)
        assert entry["migration_level"] == (known[-1].version if known else None)
        listing = subprocess.run(
            [backup.libpq.client_program("pg_restore"), "--list", str(path)], capture_output=True, text=True
        )
        assert listing.returncode == 0 and "TABLE DATA" in listing.stdout


def test_restore_into_a_fresh_cluster_is_identical(populated, backup_set, spare_cluster: Settings):
    results = backup.restore(spare_cluster, backup_set.directory)
    assert sorted(r.database for r in results) == sorted(DATABASES)
    for database in DATABASES:
        source = table_fingerprints(populated, database)
        restored = table_fingerprints(spare_cluster, database)
        assert restored == source, database
        assert any(count for count, _ in source.values()), f"{database} had no rows to compare"
    # Sequences continue where they were, and the roles of roles.yml still apply after the restore.
    with psycopg.connect(spare_cluster.database_url("catalog")) as conn:
        next_id = conn.execute("select nextval('public.backup_probe_id_seq')").fetchone()[0]
        top = conn.execute("select max(id) from public.backup_probe").fetchone()[0]
    assert next_id == top + 1
    with psycopg.connect(spare_cluster.database_url("catalog", "smartcart_analyst")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from raw.price_observations")


def test_restore_refuses_a_target_with_rows_unless_forced(populated, backup_set, spare_cluster: Settings):
    backup.restore(spare_cluster, backup_set.directory / "behavior.dump", force=True)  # holds rows now
    with pytest.raises(backup.BackupError, match="not empty.*--force"):
        backup.restore(spare_cluster, backup_set.directory / "behavior.dump")
    with psycopg.connect(spare_cluster.database_url("behavior")) as conn:
        conn.execute("insert into public.backup_probe (payload) values ('{\"extra\": true}')")
    backup.restore(spare_cluster, backup_set.directory / "behavior.dump", force=True)
    assert table_fingerprints(spare_cluster, "behavior") == table_fingerprints(populated, "behavior")


def test_restore_refuses_newer_migrations_and_damaged_files(backup_set, spare_cluster, tmp_path):
    newer = tmp_path / "newer"
    shutil.copytree(backup_set.directory, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["databases"]["catalog"]["migrations"].append("9999")
    manifest["databases"]["catalog"]["migration_level"] = "9999"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match="migration 9999 of catalog, newer than this code"):
        backup.restore(spare_cluster, newer / "catalog.dump", force=True)
    damaged = tmp_path / "damaged"
    shutil.copytree(backup_set.directory, damaged)
    with (damaged / "vault.dump").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\0\0\0\0")
    with pytest.raises(backup.BackupError, match="does not match its sha256"):
        backup.restore(spare_cluster, damaged / "vault.dump", force=True)
    (damaged / "manifest.json").unlink()
    with pytest.raises(backup.BackupError, match="did not finish"):
        backup.restore(spare_cluster, damaged)


def test_cli_backup_keeps_the_newest_sets(populated: Settings, tmp_path):
    env = {**os.environ, "SMARTCART_HOME": str(populated.home), "SMARTCART_BACKUP_KEEP": "2"}
    (tmp_path / "20000101T000000000000Z").mkdir()  # a failed, older set: swept too
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "db", "backup", "--database", "vault", "--to", str(tmp_path)],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "backup written to" in result.stdout
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert len(remaining) == 2 and all((tmp_path / name / "manifest.json").exists() for name in remaining)


# --- the backup role: exactly what pg_dump needs, nothing more ------------------------------
def test_backup_role_reaches_every_database_and_writes_nothing(populated: Settings):
    with psycopg.connect(populated.database_url("catalog")) as conn:
        attributes = conn.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls from pg_roles "
            "where rolname = 'smartcart_backup'"
        ).fetchone()
        memberships = [
            row[0]
            for row in conn.execute(
                "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
                "join pg_roles r on r.oid = m.member where r.rolname = 'smartcart_backup'"
            )
        ]
    assert attributes == (False, False, False, False, False)
    assert memberships == ["pg_read_all_data"]
    for database in DATABASES:
        with psycopg.connect(populated.database_url(database, "smartcart_backup"), autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "select format('%I.%I', schemaname, tablename) from pg_tables "
                    "where schemaname not in ('pg_catalog', 'information_schema')"
                )
            ]
            schemas = {table.split(".")[0] for table in tables} | {"public"}
            assert tables
            for table in tables:
                conn.execute(f"select * from {table} limit 1")  # reads all
            for table in tables[:3]:
                for statement in (
                    f"delete from {table}",
                    f"truncate {table}",
                    f"insert into {table} default values",
                ):
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        conn.execute(statement)
            for schema in schemas:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"create table {schema}.backup_role_probe (x int)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("create temporary table backup_role_probe (x int)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select pg_read_file('postgresql.conf')")
            sequences = [
                r[0]
                for r in conn.execute("select format('%I.%I', schemaname, sequencename) from pg_sequences")
            ]
            for sequence in sequences[:2]:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("select nextval(%s)", (sequence,))


def test_a_failed_forced_restore_loses_nothing(backup_set, spare_cluster: Settings, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(backup_set.directory, broken)
    (broken / "catalog.dump").write_bytes(b"PGDMP" + os.urandom(4096))  # right name, not an archive
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["databases"]["catalog"]["sha256"] = backup._sha256(broken / "catalog.dump")
    (broken / "manifest.json").write_text(json.dumps(manifest))
    before = table_fingerprints(spare_cluster, "catalog")
    with pytest.raises(backup.BackupError, match="pg_restore of catalog.dump into smartcart_catalog failed"):
        backup.restore(spare_cluster, broken / "catalog.dump", force=True)
    assert table_fingerprints(spare_cluster, "catalog") == before
    with psycopg.connect(spare_cluster.database_url("catalog")) as conn:
        leftovers = conn.execute("select datname from pg_database where datname like '%restoring'").fetchall()
    assert leftovers == []
