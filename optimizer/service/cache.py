"""Optimizer results cached in Postgres (serving.optimizer_cache) by request hash, with expiry.

The key hashes the canonical request and the prices version (``optimizer.catalog.prices_version``),
so a price change makes older entries unreachable at once; writing a new entry also deletes
expired rows and rows of other price versions. Nothing about the caller is stored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from optimizer.shopping import BasketRequest

DEFAULT_TTL_SECONDS = 3600


def request_hash(request: BasketRequest, prices_version: str) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prices_version}\n{canonical}".encode()).hexdigest()


def cache_get(conn: psycopg.Connection, key: str) -> str | None:
    """The cached response as JSON text (sent as it is: no parse and re-dump per hit), or None."""
    row = conn.execute(
        "select response::text from serving.optimizer_cache where request_hash = %s and expires_at > now()",
        (key,),
    ).fetchone()
    return None if row is None else row[0]


def _as_jsonb(response: dict[str, Any] | str | bytes) -> Jsonb:
    if isinstance(response, bytes | str):  # already JSON text (the API's response body)
        text = response.decode() if isinstance(response, bytes) else response
        return Jsonb(text, dumps=lambda already_json: already_json)
    return Jsonb(response)


def cache_put(
    conn: psycopg.Connection,
    key: str,
    prices_version: str,
    response: dict[str, Any] | str | bytes,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
) -> None:
    with conn.transaction():
        # A cache entry lost in a crash is recomputed: no need to wait for the WAL flush.
        conn.execute("set local synchronous_commit = off")
        conn.execute(
            "delete from serving.optimizer_cache where expires_at <= now() or prices_version <> %s",
            (prices_version,),
        )
        conn.execute(
            """
            insert into serving.optimizer_cache (request_hash, prices_version, response, expires_at)
            values (%s, %s, %s, now() + make_interval(secs => %s))
            on conflict (request_hash) do update set response = excluded.response,
                prices_version = excluded.prices_version, created_at = now(), expires_at = excluded.expires_at
            """,
            (key, prices_version, _as_jsonb(response), float(ttl_seconds)),
        )
