"""Bulk loader for crawl landings into ``smartcart_catalog.raw``.

One (retailer, scrape_date) partition is replaced atomically: delete + COPY + run record happen in
one transaction, so readers see the old partition or the new one, never half of either. Price
observations are landed in COPY text format and streamed to ``COPY ... FROM STDIN`` in 1 MiB blocks
without Python touching each row (the load costs what a plain COPY costs); membership of the
partition is then checked with one count. Stores and rejects (small) stream from JSONL.

No Scrapy import here: the landing contract lives in ``warehouse.domain.landing``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from warehouse.domain.landing import (
    PRICE_OBSERVATION_COLUMNS,
    REJECTED_ITEM_COLUMNS,
    STORE_COLUMNS,
    CrawlLanding,
    source_for,
)

__all__ = ["LandingMismatch", "LoadSummary", "load_crawl_landing", "record_failed_run"]

_PARTITIONED_TABLES = ("price_observations", "stores", "rejected_items")


class LandingMismatch(ValueError):
    """The landing files do not match what the crawl reported; the load was rolled back."""


@dataclass(frozen=True)
class LoadSummary:
    retailer: str
    scrape_date: dt.date
    run_id: str
    rows: int
    stores: int
    rejects: int


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LandingMismatch(
                        f"{path}:{number} is not valid JSON ({exc}); re-run the crawl"
                    ) from None


def _copy_jsonl(
    cursor: psycopg.Cursor,
    table: str,
    columns: Sequence[str],
    path: Path,
    landing: CrawlLanding,
) -> int:
    """COPY one landing file into ``raw.<table>``; every row must belong to the landing's partition."""
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier("raw", table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    expected_date = landing.scrape_date.isoformat()
    count = 0
    with cursor.copy(statement) as copy:
        for row in _jsonl_rows(path):
            if (row.get("retailer"), row.get("scrape_date"), row.get("run_id")) != (
                landing.retailer,
                expected_date,
                landing.run_id,
            ):
                raise LandingMismatch(
                    f"{path} row {count + 1} belongs to {row.get('retailer')}/{row.get('scrape_date')}/"
                    f"{row.get('run_id')}, not {landing.retailer}/{expected_date}/{landing.run_id}"
                )
            if "payload" in row:
                row["payload"] = json.dumps(row["payload"], ensure_ascii=False)
            copy.write_row([row.get(name) for name in columns])
            count += 1
    return count


_BLOCK = 1 << 20


def _copy_text_file(
    cursor: psycopg.Cursor, table: str, columns: Sequence[str], path: Path, landing: CrawlLanding
) -> int:
    """COPY a COPY-text landing file into ``raw.<table>`` as is; then check every row is this
    landing's (retailer, scrape_date, run_id). Returns the row count."""
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier("raw", table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    if not path.exists():
        return 0
    try:
        with cursor.copy(statement) as copy, path.open("rb") as source:
            while block := source.read(_BLOCK):
                copy.write(block)
    except psycopg.errors.DataError as exc:
        raise LandingMismatch(
            f"{path} is not valid COPY text ({str(exc).splitlines()[0]}): files truncated? re-run the crawl"
        ) from None
    copied = cursor.rowcount
    cursor.execute(
        sql.SQL("select count(*) from {} where retailer = %s and scrape_date = %s and run_id = %s").format(
            sql.Identifier("raw", table)
        ),
        (landing.retailer, landing.scrape_date, landing.run_id),
    )
    (in_partition,) = cursor.fetchone()
    if in_partition != copied:
        raise LandingMismatch(
            f"{path} holds {copied - in_partition} of {copied} rows that do not belong to "
            f"{landing.retailer}/{landing.scrape_date.isoformat()}/{landing.run_id}; re-run the crawl"
        )
    return copied


def load_crawl_landing(conn: psycopg.Connection, landing: CrawlLanding) -> LoadSummary:
    """Replace the landing's (retailer, scrape_date) partition in raw.* and record the run as succeeded.

    Runs in one transaction (committed here, unless the caller already has one open, in which
    case it becomes a savepoint of the caller's transaction). Loading the same landing twice
    leaves the same rows. Refuses landings whose crawl did not succeed.
    """
    if not landing.succeeded:
        raise LandingMismatch(
            f"refusing to load {landing.landing_dir}: crawl status is {landing.stats.get('status')!r} "
            f"({landing.stats.get('message', 'no message')})"
        )
    partition = (landing.retailer, landing.scrape_date)
    stats = landing.stats
    with conn.transaction(), conn.cursor() as cursor:
        # Two loads of one partition at once would interleave delete and copy: serialise them.
        cursor.execute(
            "select pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"raw-partition:{landing.retailer}:{landing.scrape_date.isoformat()}",),
        )
        for table in _PARTITIONED_TABLES:
            cursor.execute(
                sql.SQL("delete from {} where retailer = %s and scrape_date = %s").format(
                    sql.Identifier("raw", table)
                ),
                partition,
            )
        stores = _copy_jsonl(cursor, "stores", STORE_COLUMNS, landing.stores_path, landing)
        rows = _copy_text_file(
            cursor, "price_observations", PRICE_OBSERVATION_COLUMNS, landing.price_observations_path, landing
        )
        rejects = _copy_jsonl(
            cursor, "rejected_items", REJECTED_ITEM_COLUMNS, landing.rejected_items_path, landing
        )
        reported = (stats.get("items"), stats.get("stores"), stats.get("rejects"))
        if reported != (rows, stores, rejects):
            raise LandingMismatch(
                f"landing {landing.landing_dir} holds {rows} rows, {stores} stores, {rejects} rejects "
                f"but the crawl reported {reported[0]}, {reported[1]}, {reported[2]}: "
                "files truncated? re-run the crawl"
            )
        cursor.execute(
            """
            insert into raw.scrape_runs (
                run_id, source, retailer, scrape_date, started_at, finished_at, status,
                pages, items, stores, rejects, errors, duration_seconds, message,
                pages_expected, requests, retries, rate_limited, pages_quarantined, response_bytes,
                memory_max_bytes
            ) values (%s, %s, %s, %s, %s, %s, 'succeeded', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (run_id) do update set
                source = excluded.source, retailer = excluded.retailer,
                scrape_date = excluded.scrape_date, started_at = excluded.started_at,
                finished_at = excluded.finished_at, status = excluded.status,
                pages = excluded.pages, items = excluded.items, stores = excluded.stores,
                rejects = excluded.rejects, errors = excluded.errors,
                duration_seconds = excluded.duration_seconds, message = excluded.message,
                pages_expected = excluded.pages_expected, requests = excluded.requests,
                retries = excluded.retries, rate_limited = excluded.rate_limited,
                pages_quarantined = excluded.pages_quarantined, response_bytes = excluded.response_bytes,
                memory_max_bytes = excluded.memory_max_bytes
            """,
            (
                landing.run_id,
                source_for(landing.retailer),
                landing.retailer,
                landing.scrape_date,
                stats.get("started_at") or dt.datetime.now(dt.UTC),
                stats.get("finished_at") or dt.datetime.now(dt.UTC),
                int(stats.get("pages", 0)),
                rows,
                stores,
                rejects,
                int(stats.get("errors", 0)),
                stats.get("duration_seconds"),
                stats.get("message"),
                stats.get("pages_expected"),
                stats.get("requests"),
                stats.get("retries"),
                stats.get("rate_limited"),
                stats.get("pages_quarantined"),
                stats.get("bytes"),
                stats.get("memory_max_bytes"),
            ),
        )
    return LoadSummary(landing.retailer, landing.scrape_date, landing.run_id, rows, stores, rejects)


def record_failed_run(
    conn: psycopg.Connection,
    retailer: str,
    scrape_date: dt.date,
    run_id: str,
    message: str,
    stats: dict[str, Any] | None = None,
) -> None:
    """Record a crawl that did not complete; the partition's existing rows are left untouched."""
    stats = stats or {}
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(
            """
            insert into raw.scrape_runs (
                run_id, source, retailer, scrape_date, started_at, finished_at, status,
                pages, items, stores, rejects, errors, duration_seconds, message
            ) values (%s, %s, %s, %s, coalesce(%s, now()), now(), 'failed', %s, %s, %s, %s, %s, %s, %s)
            on conflict (run_id) do update set
                finished_at = excluded.finished_at, status = excluded.status, errors = excluded.errors,
                duration_seconds = excluded.duration_seconds, message = excluded.message
            """,
            (
                run_id,
                source_for(retailer),
                retailer,
                scrape_date,
                stats.get("started_at"),
                int(stats.get("pages", 0)),
                int(stats.get("items", 0)),
                int(stats.get("stores", 0)),
                int(stats.get("rejects", 0)),
                int(stats.get("errors", 0)),
                stats.get("duration_seconds"),
                message,
            ),
        )
