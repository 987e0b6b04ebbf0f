"""Fixtures for the optimizer tests: the shared OR-Library instances and a small hand-checked list."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.data import SplitProblem

# shared/ sits beside the repo: <parent>/main (repo) and <parent>/shared.
ORLIB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "orlib"


@pytest.fixture
def orlib_dir() -> Path:
    if not ORLIB_DIR.is_dir():
        pytest.skip(f"OR-Library instances not found at {ORLIB_DIR} (shared/ must sit beside the repo)")
    return ORLIB_DIR


def make_groceries(**overrides) -> SplitProblem:
    """Three items, three stores.

    visit:   A=1   B=1   C=10
    milk:    A 1   B 5   C 1
    bread:   A 5   B 1   C 1
    eggs:    A 2   B -   C 1

    Single stores: A = 1+1+5+2 = 9, B cannot sell eggs, C = 10+3 = 13.
    Pairs: A+B = 2 + milk@A 1 + bread@B 1 + eggs@A 2 = 6; A+C = 11+3 = 14; B+C = 11+3 = 14.
    All three: 12 + 3 = 15. Optimum: A+B at 6; with at most one store: A at 9.
    """
    fields = dict(
        items=["milk", "bread", "eggs"],
        stores=["A", "B", "C"],
        cost=[[1.0, 5.0, 1.0], [5.0, 1.0, 1.0], [2.0, None, 1.0]],
        store_cost=[1.0, 1.0, 10.0],
        max_stores=None,
    )
    fields.update(overrides)
    return SplitProblem(**fields)


@pytest.fixture
def groceries():
    """Factory for the hand-checked three-store list (see ``make_groceries``)."""
    return make_groceries


# --- a small catalog mart for the basket front door, HTTP and Dagster tests ----------------------
# Tables catalog_build.dim_store / dim_product / fct_prices_daily with only the columns the optimizer
# reads, created as smartcart_transform (the role dbt builds them with); catalog.fct_current_prices
# is then built from them by the real dbt model (`dbt run -s fct_current_prices`), so the tests run
# the one current-price rule rather than a copy of it. Marts a dbt test built
# earlier in the session are renamed aside for the module and renamed back afterwards, so these
# tests neither see nor disturb them.
MINI_DATE = "2026-03-02"
MINI_STORES = [
    # store_key, retailer, store_id, store_name, postcode, lat, lon, region
    ("opt-s1", "optimart", "1", "Optimart Central", "3000", -37.8136, 144.9631, "VIC"),
    ("opt-s2", "thriftco", "2", "Thriftco Carlton", "3053", -37.8000, 144.9670, "VIC"),
    ("opt-s3", "thriftco", "3", "Thriftco Geelong", "3220", -38.1499, 144.3617, "VIC"),
    ("opt-s4", "optimart", "4", "Optimart Sydney", "2000", -33.8688, 151.2093, "NSW"),
]
MINI_PRODUCTS = {
    "opt-milk": "Full Cream Milk 2 l",
    "opt-oat": "Oat Milk Barista 1 l",
    "opt-cheddar": "Tasty Cheddar Cheese 500 g",
    "opt-eggs": "Free Range Eggs 12 pack",
    "opt-bread": "Wholemeal Bread 700 g",
    "opt-banana": "Bananas 1 kg",
}
# (store, product, price) on MINI_DATE; opt-s3 sells no eggs, opt-s2 no cheddar.
MINI_PRICES = [
    ("opt-s1", "opt-milk", 3.10), ("opt-s1", "opt-oat", 2.90), ("opt-s1", "opt-cheddar", 6.50),
    ("opt-s1", "opt-eggs", 6.20), ("opt-s1", "opt-bread", 4.00), ("opt-s1", "opt-banana", 3.50),
    ("opt-s2", "opt-milk", 2.60), ("opt-s2", "opt-oat", 3.40), ("opt-s2", "opt-eggs", 5.10),
    ("opt-s2", "opt-bread", 4.60), ("opt-s2", "opt-banana", 2.90),
    ("opt-s3", "opt-milk", 2.20), ("opt-s3", "opt-cheddar", 5.00), ("opt-s3", "opt-bread", 3.10),
    ("opt-s3", "opt-banana", 2.50),
    ("opt-s4", "opt-milk", 3.00), ("opt-s4", "opt-cheddar", 6.00), ("opt-s4", "opt-eggs", 6.00),
    ("opt-s4", "opt-bread", 3.80), ("opt-s4", "opt-banana", 3.20), ("opt-s4", "opt-oat", 3.00),
]  # fmt: skip

_MART_DDL = {
    "dim_store": """create table catalog_build.dim_store (store_key text, retailer text, store_id text,
        store_name text, address text, postcode text, latitude double precision,
        longitude double precision, region text, first_seen_date date, last_seen_date date)""",
    "dim_product": """create table catalog_build.dim_product (product_key text, product_name text, brand text,
        category_path text, gtin text, package_size_text text, package_quantity numeric(14, 4),
        package_unit text, first_seen_date date, last_seen_date date)""",
    "fct_prices_daily": """create table catalog_build.fct_prices_daily (price_id text, price_date date,
        store_key text, product_key text, retailer_product_key text, retailer text, price numeric(12, 2),
        was_price numeric(12, 2), is_promotion boolean, currency text, unit_price numeric(14, 4),
        package_unit text, package_quantity numeric(14, 4), in_stock boolean, source text, run_id text,
        fetched_at timestamptz)""",
    # The current matching fct_current_prices takes each listing's product from.
    "dim_retailer_product": """create table catalog_build.dim_retailer_product (retailer_product_key text,
        product_key text)""",
}


_SEED_DDL = """create table staging.standard_basket (basket_line text, category_path text, quantity numeric,
    package_unit text)"""
MINI_SEED = [("milk", "Dairy > Milk", 4, "l"), ("cheese", "Dairy > Cheese", 0.5, "kg")]
# product -> (category_path, package_unit, package_quantity)
MINI_PACKAGES = {
    "opt-milk": ("Dairy > Milk", "l", 2),
    "opt-oat": ("Dairy > Milk", "l", 1),
    "opt-cheddar": ("Dairy > Cheese", "kg", 0.5),
}
# dbt builds into catalog_build and publishes into catalog (ADR 0024): the hand-made inputs live where
# dbt reads them, and the published copies the optimizer reads are set aside and restored as well.
_TABLES = [
    *(f"{schema}.{t}" for schema in ("catalog_build", "catalog") for t in [*_MART_DDL, "fct_current_prices"]),
    "staging.standard_basket",
]


def build_current_prices(settings, work_dir) -> None:
    """Build catalog.fct_current_prices from the tables present with the project's own model."""
    import os
    import subprocess
    import sys

    from orchestration.defs.dbt.project import dbt_env

    project = Path(__file__).resolve().parents[2] / "dbt_project"
    env = {**os.environ, **dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [
        str(Path(sys.executable).with_name("dbt")), "run", "--select", "fct_current_prices",
        "--project-dir", str(project), "--profiles-dir", str(project), "--target", "catalog",
        "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=project)
    assert result.returncode == 0, f"dbt run fct_current_prices failed:\n{result.stdout[-4000:]}"


class MiniCatalog:
    def __init__(self, settings, work_dir: Path):
        self.settings = settings
        self.work_dir = work_dir
        self.created: list[str] = []  # tables renamed aside

    def publish(self) -> None:
        """Rebuild catalog.fct_current_prices after prices were added (what a catalog build does)."""
        with self.connect() as conn:
            conn.execute("truncate catalog_build.dim_retailer_product")
            conn.execute(
                "insert into catalog_build.dim_retailer_product select distinct retailer_product_key,"
                " product_key from catalog_build.fct_prices_daily"
            )
        build_current_prices(self.settings, self.work_dir)

    def connect(self):
        import psycopg

        return psycopg.connect(self.settings.database_url("catalog", "smartcart_transform"), autocommit=True)

    def add_price(self, store_key: str, product_key: str, price: float, day: str = MINI_DATE, in_stock=True):
        """One observation in fct_prices_daily (call ``publish`` to make it current)."""
        retailer = next(s[1] for s in MINI_STORES if s[0] == store_key)
        with self.connect() as conn:
            conn.execute(
                "insert into catalog_build.fct_prices_daily (price_id, price_date, store_key, product_key,"
                " retailer_product_key, retailer, price, is_promotion, currency, in_stock, source, run_id,"
                " fetched_at) values (%s, %s, %s, %s, %s, %s, %s, false, 'AUD', %s, 'test', 'opt-run', now())",
                (
                    f"opt-{day}-{store_key}-{product_key}",
                    day,
                    store_key,
                    product_key,
                    f"{retailer}:{product_key}",
                    retailer,
                    price,
                    in_stock,
                ),
            )

    def setup(self) -> None:
        with self.connect() as conn:
            for table in _TABLES:
                conn.execute(f"drop table if exists {table}_optimizer_aside")
                if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None:
                    conn.execute(f"alter table {table} rename to {table.split('.')[1]}_optimizer_aside")
                    self.created.append(table)
            for ddl in [*_MART_DDL.values(), _SEED_DDL]:
                conn.execute(ddl)
            with conn.cursor() as cur:
                cur.executemany("insert into staging.standard_basket values (%s, %s, %s, %s)", MINI_SEED)
                cur.executemany(
                    "insert into catalog_build.dim_store (store_key, retailer, store_id, store_name, address, postcode,"
                    " latitude, longitude, region, first_seen_date, last_seen_date)"
                    " values (%s, %s, %s, %s, 'somewhere', %s, %s, %s, %s, %s, %s)",
                    [(*row, MINI_DATE, MINI_DATE) for row in MINI_STORES],
                )
                cur.executemany(
                    "insert into catalog_build.dim_product (product_key, product_name, brand, category_path,"
                    " package_unit, package_quantity, first_seen_date, last_seen_date)"
                    " values (%s, %s, 'Opti', %s, %s, %s, %s, %s)",
                    [
                        (key, name, *MINI_PACKAGES.get(key, (None, None, None)), MINI_DATE, MINI_DATE)
                        for key, name in MINI_PRODUCTS.items()
                    ],
                )
        for store, product, price in MINI_PRICES:
            self.add_price(store, product, price)
        # An older, cheaper day at opt-s1 that must be ignored (not the store's latest date).
        self.add_price("opt-s1", "opt-cheddar", 0.10, day="2026-03-01")
        # Out of stock on the latest day at opt-s2, in stock (and cheap) the day before: not current.
        self.add_price("opt-s2", "opt-cheddar", 0.20, day="2026-03-01")
        self.add_price("opt-s2", "opt-cheddar", 0.20, day=MINI_DATE, in_stock=False)
        self.publish()

    def teardown(self) -> None:
        import psycopg

        with self.connect() as conn:
            for table in _TABLES:
                conn.execute(f"drop table if exists {table}")
                if table in self.created:  # put the session's own table back
                    conn.execute(f"alter table {table}_optimizer_aside rename to {table.split('.')[1]}")
        with psycopg.connect(self.settings.database_url("catalog"), autocommit=True) as conn:
            conn.execute(
                "truncate serving.optimizer_cache, serving.product_search, serving.product_search_state"
            )
            conn.execute("delete from serving.basket_splits where basket_kind is not null")


@pytest.fixture(scope="module")
def mini_catalog(warehouse_settings, tmp_path_factory):
    catalog = MiniCatalog(warehouse_settings, tmp_path_factory.mktemp("mini_dbt"))
    catalog.setup()
    try:
        yield catalog
    finally:
        catalog.teardown()


# --- the HTTP app served for real ----------------------------------------------------------------
def serve_in_thread(app):
    """Start ``app`` under uvicorn on a free port; returns (base url, stop function)."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)

    def stop():
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def serve_app():
    """``serve_app(app) -> (url, stop)``: uvicorn on a free port in a thread."""
    return serve_in_thread
