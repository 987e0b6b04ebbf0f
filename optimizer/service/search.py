"""Typo-tolerant product search over serving.product_search (pg_trgm word similarity).

The search table is a copy of catalog.dim_product's searchable fields with a GIN trigram index
(migration catalog/0022): dbt replaces dim_product on every build, which would drop an index put
on it, and a post-hook would tie the catalog project to one consumer. ``refresh_product_search``
rebuilds the copy when dim_product's version (table oid, row count, last seen date) moved; the
service checks that at most every ``CHECK_SECONDS`` and the Dagster asset ``product_search_index``
runs it after each catalog build.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

SOURCE_VERSION_SQL = """
select 'catalog.dim_product'::regclass::oid::text || ':' || count(*)::text || ':'
       || coalesce(max(last_seen_date)::text, '')
from catalog.dim_product
"""
# Word similarity: a short query against a long product name ("chedar" in "Mild Cheddar 500 g").
WORD_SIMILARITY_THRESHOLD = 0.4
CHECK_SECONDS = 30.0


def trigram_schema(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "select extnamespace::regnamespace::text from pg_extension where extname = 'pg_trgm'"
    ).fetchone()
    if row is None:
        raise RuntimeError("pg_trgm is not installed in smartcart_catalog: run `smartcart db start`")
    return row[0]


def refresh_product_search(conn: psycopg.Connection, force: bool = False) -> bool:
    """Rebuild serving.product_search if catalog.dim_product changed; True if it did."""
    with conn.transaction():
        # One refresher at a time; others wait and then see the new version.
        conn.execute("select pg_advisory_xact_lock(hashtext('serving.product_search'))")
        version = conn.execute(SOURCE_VERSION_SQL).fetchone()[0]
        current = conn.execute("select source_version from serving.product_search_state").fetchone()
        if not force and current is not None and current[0] == version:
            return False
        columns = {
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'catalog' and table_name = 'dim_product'"
            )
        }
        # dim_product is one row per canonical product; older builds also carried its retailer.
        optional = {
            name: name if name in columns else "null" for name in ("brand", "retailer", "category_path")
        }
        conn.execute("delete from serving.product_search")
        conn.execute(
            f"""
            insert into serving.product_search
                (product_key, product_name, brand, retailer, category_path, search_text)
            select product_key, product_name, {optional["brand"]}, {optional["retailer"]},
                   {optional["category_path"]},
                   lower(product_name || coalesce(' ' || {optional["brand"]}, ''))
            from catalog.dim_product
            where product_name is not null
            """
        )
        conn.execute(
            """
            insert into serving.product_search_state (singleton, source_version, refreshed_at)
            values (true, %s, now())
            on conflict (singleton) do update set source_version = excluded.source_version,
                refreshed_at = excluded.refreshed_at
            """,
            (version,),
        )
    return True


def search_products(
    conn: psycopg.Connection, query: str, limit: int = 20, schema: str | None = None
) -> list[dict[str, Any]]:
    """Products ranked by word similarity to ``query`` (then similarity, name)."""
    schema = schema or trigram_schema(conn)
    s = sql.Identifier(schema)
    statement = sql.SQL(
        """
        select product_key, product_name, brand, retailer, category_path,
               round({s}.word_similarity(%(q)s, search_text)::numeric, 3)::float8 as score
        from serving.product_search
        where %(q)s operator({s}.<%%) search_text
        order by score desc, {s}.similarity(%(q)s, search_text) desc, product_name, product_key
        limit %(limit)s
        """
    ).format(s=s)
    with conn.transaction():
        conn.execute(
            "select set_config('pg_trgm.word_similarity_threshold', %s, true)",
            (str(WORD_SIMILARITY_THRESHOLD),),
        )
        cur = conn.execute(statement, {"q": query.strip().lower(), "limit": limit})
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
