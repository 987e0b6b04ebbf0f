"""The files `smartcart demo` drops into the crowd drop folder: a few shoppers' price reports in
SmartCart's crowd format, and an Open Prices export (Open Food Facts' crowd prices, its own
columns and enums) for real demo products. Both load through the same whole-or-reject rule."""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from scrapers.demo_market.catalogue import Catalogue

COLUMNS = (
    "report_id", "contributor_id", "report_type", "barcode", "product_name", "retailer", "store_id",
    "price", "currency", "price_unit", "date", "discount_type", "proof_type",
)  # fmt: skip


def write_crowd_report_file(
    folder: Path, catalogue: Catalogue, day: dt.date, reports: int = 12, seed: int = 42
) -> Path:
    """Write one valid CSV of ``reports`` price reports (anonymous contributor ids) into ``folder``.

    Prices are what the store charges that day, give or take a few cents, as shoppers report them.
    The name carries the day, so a re-run on the same day drops the same file (skipped as seen).
    """
    rng = random.Random(f"crowd:{seed}:{day.isoformat()}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-crowd-reports-{day.isoformat()}.csv"
    rows = []
    for number in range(reports):
        retailer = rng.choice(["freshmart", "nextmart", "cornershop"])
        store = rng.choice(catalogue.stores(retailer))
        product = catalogue.product(rng.randrange(catalogue.product_count), day)
        price = catalogue.price(store, product, day).price or product.base_price
        rows.append(
            {
                "report_id": f"demo-{day.isoformat()}-{number:03d}",
                "contributor_id": f"anon-{rng.getrandbits(48):012x}",
                "report_type": "price",
                "barcode": product.true_gtin or "",
                "product_name": product.name,
                "retailer": retailer,
                "store_id": store.store_id,
                "price": f"{Decimal(price) + Decimal(rng.choice(['0', '0', '0', '0.01', '-0.01', '0.05'])):.2f}",
                "currency": "AUD",
                "price_unit": "each",
                "date": day.isoformat(),
                "discount_type": "none",
                "proof_type": rng.choice(["receipt", "price_tag", "shelf_photo"]),
            }
        )
    return _write_whole(path, COLUMNS, rows)


OPEN_PRICES_COLUMNS = (
    "id", "type", "product_code", "product_name", "category_tag", "price", "price_is_discounted",
    "price_without_discount", "discount_type", "price_per", "currency", "location_osm_id",
    "location_osm_type", "date", "proof_type", "owner", "created",
)  # fmt: skip
# Public usernames as Open Prices exports carry them: the loader keeps only keyed pseudonyms.
DEMO_OWNERS = ("demo_shopper_ana", "demo_shopper_ben", "demo-price-bot")


def write_open_prices_export(
    folder: Path, catalogue: Catalogue, day: dt.date, prices: int = 8, seed: int = 42
) -> Path:
    """Write one Open Prices CSV export of ``prices`` barcoded demo products into ``folder``.

    Shops are OpenStreetMap nodes (Open Prices locates prices that way); a few prices are
    discounted with their regular price beside them. Named by day, so a re-run drops the same file.
    """
    rng = random.Random(f"open-prices:{seed}:{day.isoformat()}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-open-prices-{day.isoformat()}.csv"
    barcoded = [
        product
        for product in (catalogue.product(k, day) for k in range(catalogue.product_count))
        if product.true_gtin
    ]
    rows = []
    for number, product in enumerate(rng.sample(barcoded, min(prices, len(barcoded)))):
        regular = Decimal(product.base_price).quantize(Decimal("0.01"))
        discounted = rng.random() < 0.25
        rows.append(
            {
                "id": f"{day:%Y%m%d}{number:03d}",
                "type": "PRODUCT",
                "product_code": product.true_gtin,
                "product_name": product.name,
                "category_tag": "",
                "price": f"{regular * Decimal('0.8') if discounted else regular:.2f}",
                "price_is_discounted": str(discounted),
                "price_without_discount": f"{regular:.2f}" if discounted else "",
                "discount_type": "SALE" if discounted else "",
                "price_per": "",
                "currency": "AUD",
                "location_osm_id": str(4_000_000_000 + rng.randrange(3)),
                "location_osm_type": "NODE",
                "date": day.isoformat(),
                "proof_type": rng.choice(["PRICE_TAG", "RECEIPT"]),
                "owner": rng.choice(DEMO_OWNERS),
                "created": f"{day.isoformat()}T09:{number:02d}:00Z",
            }
        )
    return _write_whole(path, OPEN_PRICES_COLUMNS, rows)


def _write_whole(path: Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    # Written aside under an ignored suffix, renamed whole: the sensor never sees half a file.
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    partial.rename(path)
    return path
