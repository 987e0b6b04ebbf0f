"""Versioned SQL migrations, one folder per database: warehouse/platform/migrations/<database>/NNNN_name.sql.

Each file runs once, in order, inside its own transaction, and is recorded with its
checksum in public.smartcart_schema_migrations. Editing an applied file is an error:
add a new migration instead. An advisory lock serialises concurrent bootstraps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 7_301_944  # arbitrary, constant: pg_advisory_xact_lock key for migrations


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_for(database: str) -> list[Migration]:
    folder = MIGRATIONS_DIR / database
    found = []
    for path in sorted(folder.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        found.append(Migration(version=version, name=name, sql=path.read_text()))
    return found


def apply_migrations(conn: psycopg.Connection, database: str) -> list[str]:
    """Apply pending migrations for `database`; return the versions applied now."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute(
            "create table if not exists public.smartcart_schema_migrations ("
            " version text primary key, name text not null, checksum text not null,"
            " applied_at timestamptz not null default now())"
        )
    for migration in migrations_for(database):
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            row = conn.execute(
                "select checksum from public.smartcart_schema_migrations where version = %s",
                (migration.version,),
            ).fetchone()
            if row:
                if row[0] != migration.checksum:
                    raise MigrationError(
                        f"migration {database}/{migration.version}_{migration.name} was edited after it was applied; "
                        "revert the edit and add a new migration instead"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "insert into public.smartcart_schema_migrations (version, name, checksum) values (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.version)
    return applied_now
