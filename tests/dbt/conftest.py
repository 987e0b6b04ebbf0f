"""A multi-retailer market with known ground truth for the catalog mart's tests, and a dbt runner.

The demo market serves one retailer (freshmart) today. To measure product matching across retailers
we derive three retailers from the demo market's own catalogue model (scrapers/demo_market/catalogue.py),
each listing the same underlying products the way real retailers differ:

- ``freshmart``: the demo market's own listing (stockcode, name, barcode; ~2 % bad check digits,
  which the GTIN pipeline lands as NULL, ~8 % no barcode); 5 % of products are re-keyed from day 2 (same barcode, new stockcode).
- ``valueway``: names reordered with the brand last, sizes spaced ("2 L"), barcode published for
  ~70 % of products only, 10 % re-keyed from day 2.
- ``cornerstore``: no barcodes at all, upper-case names with the size in brackets, 60 % of the range.
- ``europa``: lower-case names with abbreviations ("Org.", "Choc") and sizes in ml / g ("1000ml" for
  "1L", "6x375ml"), barcodes for half its range, 80 % of the range, prices 12 % above freshmart.
- freshmart lists its house brand (brand "FreshMart") with no brand field and no brand in the name.

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
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from scrapers.demo_market.catalogue import Catalogue, Product
from scrapers.pipelines.gtin import normalise_gtin
from warehouse.platform.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
RETAILERS = ("freshmart", "valueway", "cornerstore", "europa")
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


_ABBREVIATIONS = {
    "Chocolate": "Choc",
    "Organic": "Org.",
    "Original": "Orig.",
    "Vanilla": "Van.",
    "Natural": "Nat.",
}


def _metric_size(text: str) -> str:
    """ "1.25L" -> "1250ml", "1kg" -> "1000g", "6 x 375mL" -> "6x375ml": the same size, written another way."""

    def small(match: re.Match) -> str:
        value, unit = float(match.group(1)), match.group(2)
        return (
            f"{value * 1000:g}{'ml' if unit == 'L' else 'g'}"
            if unit in ("L", "kg")
            else f"{value:g}{unit.lower()}"
        )

    return re.sub(r"(\d+(?:\.\d+)?)(kg|g|L|mL)\b", small, text).replace(" x ", "x")


@dataclass(frozen=True)
class Listing:
    """How one retailer lists one product."""

    retailer_product_id: str
    name: str
    gtin: str | None
    brand: str | None
    package_size_text: str
    price_level: float = 1.0


def _listing(retailer: str, product: Product, day_index: int) -> Listing | None:
    """How this retailer lists the product, or None if it does not carry it."""
    rng = random.Random(f"listing:{retailer}:{product.index}")
    size = product.package_size_text
    rest = product.name.replace(product.brand, "").strip()
    if retailer == "freshmart":
        rekey = rng.random() < 0.05 and day_index >= 1
        key = ("N" if rekey else "") + product.stockcode
        if product.brand == "FreshMart":  # its house brand: no brand field, no brand in the name
            return Listing(key, rest, product.barcode, None, size)
        return Listing(key, product.name, product.barcode, product.brand, size)
    if retailer == "valueway":
        rekey = rng.random() < 0.10 and day_index >= 1
        has_gtin = rng.random() < 0.70
        key = f"VW{'2' if rekey else '1'}-{product.index:05d}"
        name = f"{_spaced_size(rest)} - {product.brand}"
        return Listing(key, name, product.barcode if has_gtin else None, product.brand, size, 0.96)
    if retailer == "europa":
        # Abbreviated words, sizes in ml and g, lower case, half the barcodes, a dearer chain.
        if rng.random() >= 0.80:
            return None
        words = " ".join(_ABBREVIATIONS.get(word, word) for word in rest.replace(size, "").split())
        metric = _metric_size(size)
        name = f"{product.brand.lower()} {words.lower()} {metric}"
        has_gtin = rng.random() < 0.50
        return Listing(f"EU-{product.index * 31 + 7}", name, product.barcode if has_gtin else None, product.brand,
                       metric, 1.12)  # fmt: skip
    if rng.random() >= 0.60:
        return None
    name = f"{product.brand} {rest.replace(size, '').strip()} ({size})".upper()
    return Listing(f"CS{product.index}", name, None, product.brand, size, 1.05)


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
                    key = listing.retailer_product_id
                    # as the GTIN pipeline lands it: bad check digits become NULL
                    gtin = normalise_gtin(listing.gtin)
                    market.truth[(retailer, key)] = product.index
                    price = catalogue.price(store, product)
                    if price.price is None:
                        continue
                    shelf_price = (price.price * Decimal(str(listing.price_level))).quantize(Decimal("0.01"))
                    was_price = (
                        None
                        if price.was_price is None
                        else (price.was_price * Decimal(str(listing.price_level))).quantize(Decimal("0.01"))
                    )
                    quantity = product.package_quantity
                    market.price_rows.append(
                        (retailer, store.store_id, key, listing.name, listing.brand, product.category_path, gtin,
                         listing.package_size_text, quantity, product.package_unit, shelf_price, was_price,
                         "AUD", None, round(float(shelf_price) / quantity, 4), price.in_stock, day, fetched,
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
