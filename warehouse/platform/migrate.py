"""Versioned SQL migrations, one folder per database: warehouse/platform/migrations/<database>/NNNN_name.sql.

Each file runs once, in order, inside its own transaction together with its ledger row in
public.smartcart_schema_migrations: a migration that fails leaves the database as it was and
is not recorded (fix the file and re-run). A file may not end that transaction itself (COMMIT,
ROLLBACK, BEGIN): it is refused before it runs. Editing an applied file is an error: add a new
migration instead (docs/operations.md, "rolling forward"). An advisory lock serialises
concurrent bootstraps.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 7_301_944  # arbitrary, constant: pg_advisory_xact_lock key for migrations


class MigrationError(RuntimeError):
    """A migration is malformed, edited after it was applied, or failed; the message says what to do."""


# Dollar-quoted bodies, string literals, quoted identifiers and comments: what is not a statement keyword.
_NOT_CODE = re.compile(
    r"\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/",
    re.DOTALL,
)
_TRANSACTION_CONTROL = re.compile(
    r"^(commit|rollback|abort|end|begin|start\s+transaction|prepare\s+transaction)\b", re.IGNORECASE
)


def transaction_control_statements(text: str) -> list[str]:
    """Top-level statements that would end or nest the migration's own transaction."""
    code = _NOT_CODE.sub(" ", text)
    return [stmt.strip() for stmt in code.split(";") if _TRANSACTION_CONTROL.match(stmt.strip())]


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_for(database: str, root: Path = MIGRATIONS_DIR) -> list[Migration]:
    folder = root / database
    found = []
    for path in sorted(folder.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        text = path.read_text()
        control = transaction_control_statements(text)
        if control:
            raise MigrationError(
                f"{path}: {control[0]!r} would end the migration's own transaction, so a failure could leave "
                "it half-applied; remove it (each file already runs in one transaction). Statements that "
                "cannot run in a transaction (e.g. CREATE INDEX CONCURRENTLY) do not belong in migrations"
            )
        found.append(Migration(version=version, name=name, sql=text))
    return found


def apply_migrations(conn: psycopg.Connection, database: str, root: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations for `database` (conn in autocommit); return the versions applied now."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute(
            "create table if not exists public.smartcart_schema_migrations ("
            " version text primary key, name text not null, checksum text not null,"
            " applied_at timestamptz not null default now())"
        )
    for migration in migrations_for(database, root):
        try:
            if _apply_one(conn, database, migration):
                applied_now.append(migration.version)
        except psycopg.Error as exc:
            raise MigrationError(
                f"migration {database}/{migration.version}_{migration.name} failed and was rolled back, so the "
                f"database is as it was before it ({type(exc).__name__}: {str(exc).strip()}). Fix the file and "
                "run `smartcart db start` again; it was not recorded, so editing it is fine"
            ) from exc
    return applied_now


def _apply_one(conn: psycopg.Connection, database: str, migration: Migration) -> bool:
    """Run one migration and record it, in one transaction; False if it was applied before."""
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
            return False
        conn.execute(migration.sql)
        conn.execute(
            "insert into public.smartcart_schema_migrations (version, name, checksum) values (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )
        return True
