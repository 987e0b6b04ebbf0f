"""A multi-retailer market with known ground truth for the catalog mart's tests, and a dbt runner.

The demo market serves one retailer (freshmart) today. To measure product matching across retailers
we derive three retailers from the demo market's own catalogue model (scrapers/demo_market/catalogue.py),
each listing the same underlying products the way real retailers differ:

- ``freshmart``: the demo market's own listing (stockcode, name, barcode; ~2 % bad check digits,
  which the GTIN pipeline lands as NULL, ~8 % no barcode); 5 % of products are re-keyed from day 2 (same barcode, new stockcode).
- ``valueway``: names reordered with the brand last, sizes spaced ("2 L"), barcode published for
  ~70 % of products only, 10 % re-keyed from day 2.
- ``cornerstore``: no barcodes at all, upper-case names with the size in brackets, 60 % of the range.

Ground truth is the catalogue product index behind every (retailer, retailer_product_id).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from scrapers.demo_market.catalogue import Catalogue, Product
from scrapers.pipelines.gtin import normalise_gtin
from warehouse.platform.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
RETAILERS = ("freshmart", "valueway", "cornerstore")
PRICE_COLUMNS = (
    "retailer, store_id, retailer_product_id, product_name, brand, category_path, gtin, package_size_text, "
    "package_quantity, package_unit, price, was_price, currency, unit_price_text, unit_price, in_stock, "
    "scrape_date, fetched_at, source, source_url, run_id"
)


@dataclass
class MatchingMarket:
    """Rows to land in raw plus the ground truth: (retailer, retailer_product_id) -> product index."""

    days: list[dt.date]
    truth: dict[tuple[str, str], int] = field(default_factory=dict)
    rekeyed: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # new key -> old key
    price_rows: list[tuple] = field(default_factory=list)
    store_rows: list[tuple] = field(default_factory=list)
    run_rows: list[tuple] = field(default_factory=list)


def _spaced_size(text: str) -> str:
    return re.sub(r"(\d)(mL|L|g|kg)\b", r"\1 \2", text)


def _listing(retailer: str, product: Product, day_index: int) -> tuple[str, str, str | None] | None:
    """(retailer_product_id, product_name, gtin) as this retailer lists the product, or None if not carried."""
    rng = random.Random(f"listing:{retailer}:{product.index}")
    if retailer == "freshmart":
        rekey = rng.random() < 0.05 and day_index >= 1
        key = ("N" if rekey else "") + product.stockcode
        return key, product.name, product.barcode
    rest = product.name.replace(product.brand, "").strip()
    if retailer == "valueway":
        rekey = rng.random() < 0.10 and day_index >= 1
        has_gtin = rng.random() < 0.70
        key = f"VW{'2' if rekey else '1'}-{product.index:05d}"
        name = f"{_spaced_size(rest)} - {product.brand}"
        return key, name, product.barcode if has_gtin else None
    if rng.random() >= 0.60:
        return None
    size = product.package_size_text
    name = f"{product.brand} {rest.replace(size, '').strip()} ({size})".upper()
    return f"CS{product.index}", name, None


def build_matching_market(
    seed: int = 11, products: int = 300, stores: int = 2, start: dt.date = dt.date(2026, 3, 2), days: int = 3
) -> MatchingMarket:
    market = MatchingMarket(days=[start + dt.timedelta(days=i) for i in range(days)])
    for day_index, day in enumerate(market.days):
        catalogue = Catalogue(seed=seed, products=products, stores=stores, date=day)
        fetched = dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)
        for retailer in RETAILERS:
            run_id = f"{retailer}-{day.isoformat()}"
            market.run_rows.append(
                (run_id, f"scrapy:{retailer}", retailer, day, fetched, fetched, "succeeded")
            )
            for store in catalogue.stores():
                market.store_rows.append(
                    (retailer, store.store_id, f"{retailer.title()} {store.name.split(' ', 1)[1]}", store.address,
                     store.postcode, store.latitude, store.longitude, store.region, day, fetched,
                     f"scrapy:{retailer}", None, run_id)
                )  # fmt: skip
                for product in catalogue.products(0, products):
                    listing = _listing(retailer, product, day_index)
                    if listing is None:
                        continue
                    key, name, barcode = listing
                    gtin = normalise_gtin(
                        barcode
                    )  # as the GtinPipeline lands it: bad check digits become NULL
                    market.truth[(retailer, key)] = product.index
                    price = catalogue.price(store, product)
                    if price.price is None:
                        continue
                    quantity = product.package_quantity
                    market.price_rows.append(
                        (retailer, store.store_id, key, name, product.brand, product.category_path, gtin,
                         product.package_size_text, quantity, product.package_unit, price.price, price.was_price,
                         "AUD", None, round(float(price.price) / quantity, 4), price.in_stock, day, fetched,
                         f"scrapy:{retailer}", None, run_id)
                    )  # fmt: skip
    return market


def load_matching_market(conn: psycopg.Connection, market: MatchingMarket) -> None:
    """Replace raw's scraped tables with the market's rows (admin connection)."""
    conn.execute("truncate raw.price_observations, raw.stores, raw.scrape_runs, raw.rejected_items")
    conn.execute("truncate raw.crowd_price_reports, raw.crowd_report_files")
    with conn.cursor() as cursor:
        with cursor.copy(
            "copy raw.scrape_runs (run_id, source, retailer, scrape_date, started_at, finished_at, status) from stdin"
        ) as copy:
            for row in market.run_rows:
                copy.write_row(row)
        with cursor.copy(
            "copy raw.stores (retailer, store_id, store_name, address, postcode, latitude, longitude, region, "
            "scrape_date, fetched_at, source, source_url, run_id) from stdin"
        ) as copy:
            for row in market.store_rows:
                copy.write_row(row)
        with cursor.copy(f"copy raw.price_observations ({PRICE_COLUMNS}) from stdin") as copy:
            for row in market.price_rows:
                copy.write_row(row)
    conn.commit()


def run_dbt(settings: Settings, args: list[str], work: Path) -> subprocess.CompletedProcess:
    """`dbt <args> --target catalog` as the transform role, into a private target path."""
    from orchestration.defs.dbt.project import dbt_env

    env = {**os.environ, **dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [
        str(Path(sys.executable).with_name("dbt")), *args,
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--target", "catalog",
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=PROJECT_DIR)


@pytest.fixture(scope="session")
def catalog_tools(pair_metrics):
    """The helpers above for test modules (with --import-mode=importlib they cannot import conftest)."""
    import types

    return types.SimpleNamespace(
        build_matching_market=build_matching_market,
        load_matching_market=load_matching_market,
        pair_metrics=pair_metrics,
        run_dbt=run_dbt,
    )
