"""The crowd-report file `smartcart demo` drops: a few shoppers' price reports for real demo products."""

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
    partial = path.with_suffix(
        ".csv.partial"
    )  # written aside, renamed whole: the sensor never sees half a file
    with partial.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    partial.rename(path)
    return path
