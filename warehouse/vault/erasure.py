"""Erasure processing: delete an erased user's behaviour rows, then scrub them in the vault.

Order matters: the behaviour rows go first (by anonymous id, as smartcart_ingest, from every raw
table with an anonymous_user_id column), and only then the vault forgets the mapping; a crash in
between leaves the request pending, and the next run repeats the (idempotent) delete. Trends marts are rebuilt from raw, so the next
build holds none of the user's rows; deliveries made afterwards are cut from that build.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from warehouse.platform.access.roles import Role
from warehouse.vault.api import Vault

INGEST_ROLE = Role.INGEST


@dataclass(frozen=True)
class ErasureResult:
    erasure_request_id: int
    user_id: int
    behavior_rows_deleted: int


def behavior_tables_with_anonymous_ids(behavior_conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Every raw table holding anonymous ids (app events, consents, optimizer batch results, and
    whatever lands there later): erasure deletes from all of them, not from a list kept in sync."""
    return [
        (schema, table)
        for schema, table in behavior_conn.execute(
            "select c.table_schema, c.table_name from information_schema.columns c"
            " join information_schema.tables t using (table_schema, table_name)"
            " where c.table_schema = 'raw' and c.column_name = 'anonymous_user_id'"
            " and t.table_type = 'BASE TABLE' order by 1, 2"
        )
    ]


def process_erasures(vault: Vault, behavior_conn: psycopg.Connection) -> list[ErasureResult]:
    results = []
    for pending in vault.pending_erasures():
        deleted = 0
        if pending.anonymous_user_id is not None:
            with behavior_conn.transaction():
                for table in behavior_tables_with_anonymous_ids(behavior_conn):
                    rows = behavior_conn.execute(
                        sql.SQL("delete from {} where anonymous_user_id = %s").format(sql.Identifier(*table)),
                        (pending.anonymous_user_id,),
                    ).rowcount
                    if table == ("raw", "app_events"):
                        deleted = rows
        vault.complete_erasure(pending, deleted)
        results.append(ErasureResult(pending.erasure_request_id, pending.user_id, deleted))
    return results
