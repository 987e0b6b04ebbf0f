"""Backups and restores of the four databases: `pg_dump -Fc` archives with a manifest.

A backup set is one folder (``SMARTCART_BACKUP_DIR``, default ``SMARTCART_HOME/backups``, then a
UTC timestamp) holding ``<database>.dump`` per database and ``manifest.json`` with each file's
size, sha256, migration level, the server version and how long it took. Files are owner-only
(the vault's holds PII); the manifest is written last, so a folder without one is a backup that
failed and is never restored or counted. ``SMARTCART_BACKUP_KEEP`` (default 7) complete sets are
kept; older ones are removed after a successful backup.

Dumps run as ``smartcart_backup`` (read-only, see warehouse/platform/access/roles.yml); restores as the
admin role of the target. Each database's dump is consistent in itself; the four are taken one
after the other, not at one instant (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from warehouse.platform import libpq
from warehouse.platform.config import DATABASES, ConfigurationError, Settings, database_name
from warehouse.platform.migrate import migrations_for

BACKUP_ROLE = "smartcart_backup"
MANIFEST = "manifest.json"
DEFAULT_KEEP = 7
MIGRATIONS_TABLE = "public.smartcart_schema_migrations"


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class DatabaseBackup:
    database: str
    file: str
    bytes: int
    sha256: str
    migration_level: str | None
    migrations: list[str]
    duration_seconds: float


@dataclass(frozen=True)
class BackupSet:
    directory: Path
    created_at: str
    server_version: str
    databases: dict[str, DatabaseBackup]
    removed: list[str]

    @property
    def total_bytes(self) -> int:
        return sum(item.bytes for item in self.databases.values())


def backup_root(settings: Settings, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return (
        Path(env["SMARTCART_BACKUP_DIR"]).expanduser()
        if env.get("SMARTCART_BACKUP_DIR")
        else settings.home / "backups"
    )


def retention(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    text = env.get("SMARTCART_BACKUP_KEEP", str(DEFAULT_KEEP))
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(
            f"SMARTCART_BACKUP_KEEP={text!r}: give the number of backups to keep (1 or more)"
        )
    return int(text)


def selected_databases(choice: str) -> list[str]:
    if choice == "all":
        return list(DATABASES)
    if choice not in DATABASES:
        raise ConfigurationError(f"unknown database {choice!r}; use one of {', '.join(DATABASES)} or all")
    return [choice]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def applied_migrations(conn: psycopg.Connection) -> list[str]:
    """Versions in the migration ledger, oldest first ([] where there is no ledger, e.g. Dagster's db)."""
    exists = conn.execute("select to_regclass(%s) is not null", (MIGRATIONS_TABLE,)).fetchone()[0]
    if not exists:
        return []
    return [row[0] for row in conn.execute(f"select version from {MIGRATIONS_TABLE} order by version")]


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def backup(
    settings: Settings,
    databases: Iterable[str] = DATABASES,
    to: Path | None = None,
    keep: int | None = None,
) -> BackupSet:
    """Dump each database as the backup role into a new owner-only set folder; apply retention."""
    root = Path(to) if to else backup_root(settings)
    keep = retention() if keep is None else keep
    created = dt.datetime.now(dt.UTC)
    directory = root / created.strftime("%Y%m%dT%H%M%S%fZ")
    directory.mkdir(parents=True, mode=0o700)
    os.chmod(directory, 0o700)
    pg_dump = libpq.client_program("pg_dump")
    results: dict[str, DatabaseBackup] = {}
    server_version = ""
    try:
        for database in databases:
            target = libpq.connection(settings, database, BACKUP_ROLE)
            with psycopg.connect(settings.database_url(database, BACKUP_ROLE)) as conn:
                server_version = conn.execute("show server_version").fetchone()[0]
                migrations = applied_migrations(conn)
            path = directory / f"{database}.dump"
            # Created owner-only before pg_dump opens it, so the vault's PII is never world-readable.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            started = time.perf_counter()
            _run([pg_dump, "--format=custom", f"--file={path}", f"--dbname={target.url}"], target.env,
                 f"pg_dump of {database_name(database)} as {BACKUP_ROLE}")  # fmt: skip
            results[database] = DatabaseBackup(
                database=database,
                file=path.name,
                bytes=path.stat().st_size,
                sha256=_sha256(path),
                migration_level=migrations[-1] if migrations else None,
                migrations=migrations,
                duration_seconds=round(time.perf_counter() - started, 3),
            )
            if results[database].bytes == 0:
                raise BackupError(f"pg_dump wrote an empty archive for {database_name(database)}")
        manifest = {
            "created_at": created.isoformat(),
            "server_version": server_version,
            "databases": {name: asdict(item) for name, item in results.items()},
        }
        tmp = directory / (MANIFEST + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest, handle, indent=2)
        os.replace(tmp, directory / MANIFEST)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # half a backup is no backup
        raise
    removed = apply_retention(root, keep)
    return BackupSet(directory, created.isoformat(), server_version, results, removed)


def complete_sets(root: Path) -> list[Path]:
    """Backup set folders that have a manifest, oldest first."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and (path / MANIFEST).is_file())


def apply_retention(root: Path, keep: int) -> list[str]:
    """Remove all but the newest `keep` complete sets, and failed sets older than the newest one."""
    complete = complete_sets(root)
    doomed = complete[:-keep] if len(complete) > keep else []
    if complete:
        newest = complete[-1].name
        doomed += [
            p for p in root.iterdir() if p.is_dir() and not (p / MANIFEST).exists() and p.name < newest
        ]
    for path in doomed:
        shutil.rmtree(path)
    return sorted(p.name for p in doomed)


# --- restore -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoreResult:
    database: str
    target: str
    migration_level: str | None
    duration_seconds: float


def read_manifest(archive: Path) -> tuple[Path, dict, list[str]]:
    """(set folder, manifest, databases to restore) for a set folder or one .dump file inside one."""
    archive = Path(archive).expanduser()
    if archive.is_file() and archive.suffix == ".dump":
        directory, only = archive.parent, [archive.stem]
    elif archive.is_dir():
        directory, only = archive, None
    else:
        raise BackupError(f"{archive} is neither a backup folder nor a .dump file of one")
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(
            f"{directory} has no {MANIFEST}: the backup did not finish (or this is not a SmartCart backup); "
            "restore another set"
        ) from exc
    databases = only or list(manifest["databases"])
    for database in databases:
        if database not in manifest["databases"]:
            raise BackupError(f"{MANIFEST} in {directory} does not list {database}")
    return directory, manifest, databases


def check_archive(directory: Path, manifest: dict, database: str) -> Path:
    """The archive's checksum matches and its migrations are all known to this code."""
    entry = manifest["databases"][database]
    path = directory / entry["file"]
    if not path.is_file() or _sha256(path) != entry["sha256"]:
        raise BackupError(
            f"{path} is missing or does not match its sha256 in {MANIFEST}: the file is damaged"
        )
    known = {migration.version for migration in migrations_for(database)}
    unknown = sorted(set(entry["migrations"]) - known)
    if unknown:
        level = max(known) if known else "none"
        raise BackupError(
            f"{path} is at migration {entry['migration_level']} of {database}, newer than this code "
            f"(which knows up to {level}; unknown: {', '.join(unknown)}). Restore it with the SmartCart "
            "version that made it, or upgrade this checkout first"
        )
    return path


def rows_in_target(conn: psycopg.Connection) -> dict[str, bool]:
    """Every user table of the target and whether it holds any row (the migration ledger aside)."""
    tables = conn.execute(
        """
        select format('%I.%I', n.nspname, c.relname) from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and not c.relispartition
          and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%%'
        order by 1
        """
    ).fetchall()
    found = {}
    for (table,) in tables:
        if table == MIGRATIONS_TABLE:
            continue
        found[table] = conn.execute(f"select exists (select from {table})").fetchone()[0]
    return found


def _refuse_if_not_empty(url: str, label: str, force: bool) -> None:
    with psycopg.connect(url) as conn:
        filled = [table for table, has_rows in rows_in_target(conn).items() if has_rows]
    if filled and not force:
        shown = ", ".join(filled[:5]) + (f" and {len(filled) - 5} more" if len(filled) > 5 else "")
        raise BackupError(
            f"{label} is not empty ({len(filled)} tables hold rows: {shown}). Restore into an empty "
            "database or a fresh cluster, or pass --force to replace what is there"
        )


def _recreate_embedded(settings: Settings, database: str) -> None:
    """Drop and create the embedded database (owner as in roles.yml), so the restore starts from nothing."""
    from warehouse.platform.access.grants import AccessPolicy, ensure_database

    maintenance = settings.database_url(database).rsplit("/", 1)[0] + "/postgres?sslmode=disable"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database_name(database)))
        )
        ensure_database(conn, database, AccessPolicy.load())


def restore(
    settings: Settings, archive: Path, to_url: str | None = None, force: bool = False
) -> list[RestoreResult]:
    """Restore a backup set (or one of its .dump files) into empty databases; refuse what would lose data."""
    directory, manifest, databases = read_manifest(archive)
    if to_url and len(databases) != 1:
        raise BackupError("--to URL restores one database: name its .dump file, not the whole set")
    paths = {database: check_archive(directory, manifest, database) for database in databases}
    pg_restore = libpq.client_program("pg_restore")
    results = []
    for database, path in paths.items():
        embedded = to_url is None and settings.is_embedded(database)
        url = to_url or settings.database_url(database)
        label = libpq.password_free(url)
        _refuse_if_not_empty(url, label, force)
        started = time.perf_counter()
        cmd = [pg_restore, "--exit-on-error", "--single-transaction"]
        if embedded:
            _recreate_embedded(settings, database)  # empty (checked above) or --force: start from nothing
            target = libpq.connection(settings, database)
        else:
            cmd += ["--clean", "--if-exists"]  # replace what migrations created, in the same transaction
            target = libpq.for_url(settings, url)
        _run(
            [*cmd, f"--dbname={target.url}", str(path)], target.env, f"pg_restore of {path.name} into {label}"
        )
        if embedded:
            from warehouse.platform.access.grants import AccessPolicy, apply_database_grants

            with psycopg.connect(settings.database_url(database)) as conn, conn.transaction():
                apply_database_grants(conn, database, AccessPolicy.load())
        level = manifest["databases"][database]["migration_level"]
        results.append(RestoreResult(database, label, level, round(time.perf_counter() - started, 3)))
    return results
