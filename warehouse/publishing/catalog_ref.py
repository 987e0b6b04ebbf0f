"""Publish the catalog mart's public dimensions into smartcart_behavior.catalog_ref.

dbt cannot join across databases, so the trends side reads products, categories, stores and
current prices from this copy. Runs as smartcart_transform (reads the catalog mart, writes
catalog_ref); each table is replaced whole in one behaviour transaction, streamed with COPY.
Columns the catalog mart does not have (it evolves) are published as null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from warehouse.platform.config import Settings

TRANSFORM_ROLE = "smartcart_transform"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# target table -> (columns, catalog relation, expression per column with {name} placeholders)
_PRODUCT_COLUMNS = {
    "product_key": "product_key",
    "product_name": "{product_name}",
    "brand": "{brand}",
    "category_path": "coalesce({category_path}, 'Uncategorised')",
    "category": "coalesce(split_part({category_path}, ' > ', 1), 'Uncategorised')",
    "package_size_text": "{package_size_text}",
    "package_quantity": "{package_quantity}::numeric",
    "package_unit": "{package_unit}",
}
_STORE_COLUMNS = {
    "store_key": "store_key",
    "retailer": "{retailer}",
    "store_name": "{store_name}",
    "postcode": "{postcode}::text",
    "region": "{region}",
}


@dataclass(frozen=True)
class CatalogRefSummary:
    products: int
    categories: int
    stores: int
    current_prices: int


def _columns(conn: psycopg.Connection, table: str) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'catalog' and table_name = %s",
            (table,),
        )
    }


def _select(mapping: dict[str, str], available: set[str], relation: str) -> str:
    """`select <expr> as <column>, ...` with every {name} the relation lacks replaced by null."""

    def resolve(match: re.Match) -> str:
        return match.group(1) if match.group(1) in available else "null"

    exprs = [f"{_PLACEHOLDER.sub(resolve, expr)} as {target}" for target, expr in mapping.items()]
    return f"select {', '.join(exprs)} from {relation}"


def _stream(source: psycopg.Connection, target: psycopg.Connection, query: str, table: str, columns) -> int:
    with (
        source.cursor().copy(f"copy ({query}) to stdout") as out,
        target.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as into,
    ):
        for block in out:
            into.write(block)
    return target.execute(f"select count(*) from {table}").fetchone()[0]


def publish_catalog_ref(settings: Settings) -> CatalogRefSummary:
    with (
        psycopg.connect(settings.database_url("catalog", TRANSFORM_ROLE)) as catalog,
        psycopg.connect(settings.database_url("behavior", TRANSFORM_ROLE)) as behavior,
    ):
        product_cols, store_cols = _columns(catalog, "dim_product"), _columns(catalog, "dim_store")
        if not product_cols or not store_cols:
            raise RuntimeError("the catalog mart is not built yet: run the catalog pipeline first")
        with behavior.transaction():
            behavior.execute(
                "truncate catalog_ref.products, catalog_ref.categories, catalog_ref.stores, catalog_ref.current_prices"
            )
            products = _stream(
                catalog,
                behavior,
                _select(_PRODUCT_COLUMNS, product_cols, "catalog.dim_product"),
                "catalog_ref.products",
                list(_PRODUCT_COLUMNS),
            )
            stores = _stream(
                catalog,
                behavior,
                _select(_STORE_COLUMNS, store_cols, "catalog.dim_store"),
                "catalog_ref.stores",
                list(_STORE_COLUMNS),
            )
            prices = _stream(
                catalog,
                behavior,
                "select distinct on (store_key, product_key) store_key, product_key, price_date, price, unit_price"
                " from catalog.fct_prices_daily order by store_key, product_key, price_date desc",
                "catalog_ref.current_prices",
                ["store_key", "product_key", "price_date", "price", "unit_price"],
            )
            categories = behavior.execute(
                "insert into catalog_ref.categories (category_path, category, products)"
                " select category_path, min(category), count(*) from catalog_ref.products group by category_path"
            ).rowcount
            behavior.execute(
                "insert into catalog_ref.publications (products, stores, current_prices) values (%s, %s, %s)",
                (products, stores, prices),
            )
    return CatalogRefSummary(products=products, categories=categories, stores=stores, current_prices=prices)
