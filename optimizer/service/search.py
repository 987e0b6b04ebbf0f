"""Typo-tolerant product search over serving.product_search (pg_trgm word similarity).

Two layers of typo tolerance: pg_trgm's word similarity catches a wrong or missing letter in a
longer word ("chedar"); it cannot catch short words whose trigrams all change ("mlik", "bred").
For those, each query word that is not a catalogue word is first corrected to the nearest
catalogue word by Damerau-Levenshtein distance (rapidfuzz, over the vocabulary of product names:
a few thousand words), allowing 1 edit up to 4 letters and 2 beyond, ties to the commoner word.

The search table is a copy of catalog.dim_product's searchable fields with a GIN trigram index
(migration catalog/0022): dbt replaces dim_product on every build, which would drop an index put
on it, and a post-hook would tie the catalog project to one consumer. ``refresh_product_search``
rebuilds the copy when dim_product's version (table oid, row count, last seen date) moved; the
service checks that at most every ``CHECK_SECONDS`` and the Dagster asset ``product_search_index``
runs it after each catalog build.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

import psycopg
from psycopg import sql
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

SOURCE_VERSION_SQL = """
select 'catalog.dim_product'::regclass::oid::text || ':' || count(*)::text || ':'
       || coalesce(max(last_seen_date)::text, '')
from catalog.dim_product
"""
# Word similarity: a short query against a long product name ("chedar" in "Mild Cheddar 500 g").
WORD_SIMILARITY_THRESHOLD = 0.4
CHECK_SECONDS = 30.0
WORD = re.compile(r"[a-z0-9]+")
MIN_CORRECTED_LENGTH = 3
# Query text that can reach SQL: printable, no NUL or other control characters.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def max_edits(word: str) -> int:
    return 1 if len(word) <= 4 else 2


class Vocabulary:
    """The words of product names and brands with how many products use each."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.words = list(counts)

    @classmethod
    def load(cls, conn: psycopg.Connection) -> Vocabulary:
        counts: Counter[str] = Counter()
        for (text,) in conn.execute("select search_text from serving.product_search"):
            counts.update(set(WORD.findall(text)))
        return cls(counts)

    def correct_word(self, word: str) -> str:
        if word in self.counts or len(word) < MIN_CORRECTED_LENGTH or word.isdigit() or not self.words:
            return word
        limit = max_edits(word)
        near = process.extract(
            word, self.words, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=20
        )
        if not near:
            return word
        best = min(near, key=lambda match: (match[1], -self.counts[match[0]], match[0]))
        return best[0]

    def correct(self, query: str) -> str:
        """The query with each unknown word replaced by its nearest catalogue word."""
        return " ".join(self.correct_word(word) for word in WORD.findall(query.lower()))


class VocabularyCache:
    """One vocabulary per product_search version (rebuilt when the search table was refreshed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: str | None = None
        self._vocabulary = Vocabulary(Counter())

    def get(self, conn: psycopg.Connection, check: bool = True) -> Vocabulary:
        """The vocabulary; with ``check``, reloaded first if the search table changed."""
        if not check and self._version is not None:
            return self._vocabulary
        row = conn.execute("select source_version from serving.product_search_state").fetchone()
        version = row[0] if row else ""
        with self._lock:
            if version != self._version:
                self._vocabulary = Vocabulary.load(conn)
                self._version = version
            return self._vocabulary


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
    conn: psycopg.Connection,
    query: str,
    limit: int = 20,
    schema: str | None = None,
    vocabulary: Vocabulary | None = None,
    session_configured: bool = False,
) -> list[dict[str, Any]]:
    """Products ranked by word similarity to ``query`` (typos corrected first, see the module doc),
    each with its size, GTIN, the retailers with a current price and their price range."""
    schema = schema or trigram_schema(conn)
    s = sql.Identifier(schema)
    text = query.strip().lower()
    corrected = vocabulary.correct(text) if vocabulary is not None else text
    statement = sql.SQL(
        """
        with hits as (
            select product_key, product_name, brand, category_path,
                   greatest({s}.word_similarity(%(q)s, search_text),
                            {s}.word_similarity(%(fixed)s, search_text)) as similarity,
                   {s}.similarity(%(fixed)s, search_text) as whole_similarity
            from serving.product_search
            where %(q)s operator({s}.<%%) search_text or %(fixed)s operator({s}.<%%) search_text
            order by similarity desc, whole_similarity desc, product_name, product_key
            limit %(limit)s
        )
        select hits.product_key, hits.product_name, hits.brand, hits.category_path,
               p.package_size_text as size, p.package_quantity::float8 as package_quantity,
               p.package_unit, p.gtin,
               coalesce(prices.retailers, '{{}}') as retailers, coalesce(prices.stores, 0) as stores_stocking,
               prices.price_min, prices.price_max,
               round(hits.similarity::numeric, 3)::float8 as score
        from hits
        left join catalog.dim_product as p on p.product_key = hits.product_key
        left join lateral (
            select array_agg(distinct f.retailer order by f.retailer) as retailers,
                   count(distinct f.store_key)::int as stores, min(f.price) as price_min,
                   max(f.price) as price_max
            from catalog.fct_current_prices as f
            where f.product_key = hits.product_key
        ) as prices on true
        order by hits.similarity desc, hits.whole_similarity desc, hits.product_name, hits.product_key
        """
    ).format(s=s)
    params = {"q": text, "fixed": corrected or text, "limit": limit}
    if session_configured:
        cur = conn.execute(statement, params)
    else:
        with conn.transaction():
            conn.execute(
                "select set_config('pg_trgm.word_similarity_threshold', %s, true)",
                (str(WORD_SIMILARITY_THRESHOLD),),
            )
            cur = conn.execute(statement, params)
    columns = [c.name for c in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def configure_search_session(conn: psycopg.Connection) -> None:
    """Set the word-similarity threshold for the whole session (the service's pooled connections),
    so a search is one statement instead of a transaction of three."""
    conn.execute(f"set pg_trgm.word_similarity_threshold = {float(WORD_SIMILARITY_THRESHOLD)}")
