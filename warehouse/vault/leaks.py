"""Checks that would catch a privacy leak (reusable by tests and the quality checks).

- `find_identifier_leaks`: no value in any behaviour table (every text, json/jsonb and uuid
  column of every schema, incl. json string leaves and object keys) equals a username, email
  or app user id held in the vault. Values are compared as sha256 digests of their lowercased
  text, so the vault's identifiers never travel to the behaviour database in clear.
- `find_trends_rows_under_k`: every trends table counts distinct shoppers in a `shoppers`
  column and no row is under k; no trends table carries an anonymous id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
from psycopg import sql

from warehouse.platform.config import Settings
from warehouse.vault.api import Vault

TEXT_TYPES = ("text", "character varying", "character", "uuid", "name")
JSON_TYPES = ("json", "jsonb")
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


@dataclass(frozen=True)
class Leak:
    table: str
    column: str
    rows: int

    def __str__(self) -> str:
        return f"{self.table}.{self.column}: {self.rows} value(s) equal a vault identifier"


def _digest(value: str) -> str:
    return hashlib.sha256(value.lower().encode()).hexdigest()


def _columns(conn: psycopg.Connection, schemas: tuple[str, ...] | None) -> list[tuple[str, str, str, str]]:
    rows = conn.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type"
        " from information_schema.columns c join information_schema.tables t"
        "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where c.table_schema <> all(%s) and c.table_schema not like 'pg_temp%%'"
        "   and (%s::text[] is null or c.table_schema = any(%s))"
        "   and (c.data_type = any(%s) or c.data_type = any(%s))"
        " order by 1, 2, 3",
        (
            list(SYSTEM_SCHEMAS),
            list(schemas) if schemas else None,
            list(schemas) if schemas else None,
            list(TEXT_TYPES),
            list(JSON_TYPES),
        ),
    ).fetchall()
    return [tuple(r) for r in rows]


def find_identifier_leaks(
    settings: Settings,
    database: str = "behavior",
    schemas: tuple[str, ...] | None = None,
    identifiers: set[str] | None = None,
) -> list[Leak]:
    """Scan every value of every text/json/uuid column in `database` for vault identifiers."""
    if identifiers is None:
        with Vault.open(settings) as vault:
            identifiers = vault.identifying_values(purpose=f"leak_check:{database}")
    digests = sorted({_digest(v) for v in identifiers})
    leaks = []
    with psycopg.connect(settings.database_url(database)) as conn:
        conn.execute("create temporary table leak_check_digests (digest text primary key) on commit drop")
        with conn.cursor().copy("copy leak_check_digests (digest) from stdin") as copy:
            for digest in digests:
                copy.write_row((digest,))
        conn.execute("analyze leak_check_digests")
        hashed = "encode(sha256(convert_to(lower({value}), 'UTF8')), 'hex')"
        for schema, table, column, data_type in _columns(conn, schemas):
            relation = sql.Identifier(schema, table)
            col = sql.Identifier(column)
            if data_type in JSON_TYPES:
                # Every string leaf and every object key, at any depth.
                values = sql.SQL(
                    "select v #>> '{{}}' as value from {rel}, jsonb_path_query({col}::jsonb, 'strict $.**') as v"
                    " where jsonb_typeof(v) = 'string'"
                    " union all select k from {rel}, jsonb_path_query({col}::jsonb, 'strict $.**') as o,"
                    " jsonb_object_keys(o) as k where jsonb_typeof(o) = 'object'"
                ).format(rel=relation, col=col)
            else:
                values = sql.SQL("select {col}::text as value from {rel}").format(rel=relation, col=col)
            query = sql.SQL(
                "select count(*) from ({values}) as scanned join leak_check_digests d on d.digest = "
                + hashed.format(value="scanned.value")
            ).format(values=values)
            rows = conn.execute(query).fetchone()[0]
            if rows:
                leaks.append(Leak(f"{schema}.{table}", column, rows))
        conn.rollback()
    return leaks


def find_trends_rows_under_k(settings: Settings, k: int = 10, schema: str = "trends") -> list[str]:
    """Problems in the sellable trends schema: rows under k, tables without a shoppers count,
    or any anonymous id column."""
    problems = []
    with psycopg.connect(settings.database_url("behavior")) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                (schema,),
            )
        ]
        for table in tables:
            columns = {
                r[0]: r[1]
                for r in conn.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_schema = %s and table_name = %s",
                    (schema, table),
                )
            }
            if "anonymous_user_id" in columns or "uuid" in columns.values():
                problems.append(f"{schema}.{table} carries an anonymous id column")
            if "shoppers" not in columns:
                problems.append(f"{schema}.{table} has no shoppers column: its k-anonymity cannot be checked")
                continue
            under = conn.execute(
                sql.SQL("select count(*) from {} where shoppers is null or shoppers < %s").format(
                    sql.Identifier(schema, table)
                ),
                (k,),
            ).fetchone()[0]
            if under:
                problems.append(f"{schema}.{table}: {under} row(s) count fewer than k={k} shoppers")
    return problems
