"""Read current prices from the catalog mart into a ``CatalogSnapshot`` (the only SQL of the
basket front door). Current prices are catalog.fct_current_prices, the dbt mart that writes the rule
once (latest in-stock observation per branch x retailer product, within a staleness window); this
module does not restate it. Pack size: the mart has no units-per-pack column yet, so each catalog offer
is one unit unless catalog.dim_product grows a ``units_per_pack`` column (then it is used).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import psycopg

from optimizer.geo import PostcodeCentroids
from optimizer.pricing import PackOffer
from optimizer.shopping import CatalogSnapshot, ShelfOffer, StoreInfo, shelf_of
from warehouse.platform.access.roles import Role

APP_ROLE = Role.APP_API

STORES_SQL = """
select store_key, retailer, store_id, store_name, postcode,
       latitude::float8, longitude::float8, region
from catalog.dim_store
order by store_key
"""

CURRENT_PRICES = "catalog.fct_current_prices"

OFFERS_SQL = """
select f.store_key, f.product_key, f.price::float8, {pack_size}
from catalog.fct_current_prices as f
inner join catalog.dim_product as p on p.product_key = f.product_key
where true {product_filter}
"""

NAMES_SQL = "select product_key, product_name from catalog.dim_product"

# A version of the current prices that changes whenever they do: dbt rebuilds the table (new oid);
# a changed row moves the count, max(fetched_at) or the price sum. Part of the cache key. The table
# holds one row per branch x retailer product, so this stays cheap whatever the history.
PRICES_VERSION_SQL = """
select 'catalog.fct_current_prices'::regclass::oid::text || ':' || count(*)::text || ':'
       || coalesce(max(fetched_at)::text, '') || ':' || coalesce(max(price_date)::text, '')
       || ':' || coalesce(sum(price)::text, ''),
       max(price_date)::text
from catalog.fct_current_prices
"""


def prices_version(conn: psycopg.Connection) -> tuple[str, str | None]:
    """(version string, latest price date)."""
    version, price_date = conn.execute(PRICES_VERSION_SQL).fetchone()
    return version, price_date


class CurrentPricesMissing(RuntimeError):
    """catalog.fct_current_prices does not exist yet (the catalog pipeline has not run)."""


def prices_version_or_none(conn: psycopg.Connection) -> tuple[str, str | None] | None:
    """Like ``prices_version``, or None when the current-prices mart is not built yet."""
    if conn.execute("select to_regclass(%s)", (CURRENT_PRICES,)).fetchone()[0] is None:
        return None
    return prices_version(conn)


def _has_units_per_pack(conn: psycopg.Connection) -> bool:
    return bool(
        conn.execute(
            "select 1 from information_schema.columns where table_schema = 'catalog' "
            "and table_name = 'dim_product' and column_name = 'units_per_pack'"
        ).fetchone()
    )


def load_snapshot(
    conn: psycopg.Connection, product_keys: list[str] | None, version: tuple[str, str | None] | None = None
) -> CatalogSnapshot:
    """Stores, the current offers of ``product_keys`` (None: every product) and their names."""
    stores = [StoreInfo(*row) for row in conn.execute(STORES_SQL).fetchall()]
    pack = "coalesce(p.units_per_pack, 1)::int" if _has_units_per_pack(conn) else "1"
    if product_keys is None:
        offers_sql, names_sql, params = OFFERS_SQL.format(pack_size=pack, product_filter=""), NAMES_SQL, ()
    else:
        offers_sql = OFFERS_SQL.format(pack_size=pack, product_filter="and f.product_key = any(%s)")
        names_sql, params = NAMES_SQL + " where product_key = any(%s)", (product_keys,)
    offers = [ShelfOffer(*row) for row in conn.execute(offers_sql, params)]
    names = dict(conn.execute(names_sql, params).fetchall())
    version = version or prices_version(conn)
    return CatalogSnapshot(
        stores=stores, offers=offers, product_names=names, prices_version=version[0], price_date=version[1]
    )


class SnapshotCache:
    """Stores and per-product offers of the current prices, kept in memory per prices version.

    The HTTP front door answers many baskets between two catalog builds; reading the stores and
    each product's offers once per version takes the catalog read off the per-request path, and
    keeping the postcode centroids and each product's priced shelf takes their rebuilding off it. The
    whole cache is dropped when the version moves (a rebuilt mart), and products are evicted
    least-recently-used beyond ``max_products`` so memory stays bounded on a large catalog.
    """

    def __init__(self, max_products: int = 20_000) -> None:
        self.max_products = max_products
        self._lock = threading.Lock()
        self._version: tuple[str, str | None] | None = None
        self._stores: list[StoreInfo] = []
        self._centroids = PostcodeCentroids({})
        self._pack_sql = "1"
        # product -> (its offers, its name, its shelf: store -> pack offers)
        self._products: OrderedDict[str, tuple[list[ShelfOffer], str | None, dict[str, list[PackOffer]]]] = (
            OrderedDict()
        )

    def _reset(self, conn: psycopg.Connection, version: tuple[str, str | None]) -> None:
        self._stores = [StoreInfo(*row) for row in conn.execute(STORES_SQL).fetchall()]
        self._centroids = PostcodeCentroids.from_stores(
            (s.postcode, s.latitude, s.longitude) for s in self._stores
        )
        self._pack_sql = "coalesce(p.units_per_pack, 1)::int" if _has_units_per_pack(conn) else "1"
        self._products.clear()
        self._version = version

    def load(
        self, conn: psycopg.Connection, product_keys: list[str], version: tuple[str, str | None]
    ) -> CatalogSnapshot:
        """The snapshot ``load_snapshot`` would read for ``product_keys`` at ``version``."""
        wanted = list(dict.fromkeys(product_keys))
        with self._lock:
            if self._version != version:
                self._reset(conn, version)
            missing = [key for key in wanted if key not in self._products]
            if missing:
                offers_sql = OFFERS_SQL.format(
                    pack_size=self._pack_sql, product_filter="and f.product_key = any(%s)"
                )
                found: dict[str, list[ShelfOffer]] = {key: [] for key in missing}
                for row in conn.execute(offers_sql, (missing,)):
                    found[row[1]].append(ShelfOffer(*row))
                names = dict(conn.execute(NAMES_SQL + " where product_key = any(%s)", (missing,)).fetchall())
                for key in missing:
                    self._products[key] = (found[key], names.get(key), shelf_of(found[key]).get(key, {}))
            for key in wanted:
                self._products.move_to_end(key)
            entries = [(key, self._products[key]) for key in wanted]
            while len(self._products) > self.max_products:
                self._products.popitem(last=False)
            stores, centroids = list(self._stores), self._centroids
        offers = [offer for _, (product_offers, _, _) in entries for offer in product_offers]
        names = {key: name for key, (_, name, _) in entries if name is not None}
        shelf = {key: product_shelf for key, (_, _, product_shelf) in entries if product_shelf}
        return CatalogSnapshot(
            stores=stores,
            offers=offers,
            product_names=names,
            prices_version=version[0],
            price_date=version[1],
            centroids=centroids,
            prebuilt_shelf=shelf,
        )
