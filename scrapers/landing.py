"""The crawl landing: the files one crawl writes and the loader reads, and their column order.

Deliberately free of Scrapy imports so ``warehouse.loading`` and Dagster can use it cheaply.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRICE_OBSERVATIONS_FILE = "price_observations.jsonl"
STORES_FILE = "stores.jsonl"
REJECTED_ITEMS_FILE = "rejected_items.jsonl"
CRAWL_STATS_FILE = "crawl_stats.json"

# Column order of raw.price_observations / raw.stores / raw.rejected_items (see
# warehouse/migrations/catalog/0001_raw_landing.sql); JSONL keys use the same names.
PRICE_OBSERVATION_COLUMNS: tuple[str, ...] = (
    "retailer", "store_id", "retailer_product_id", "product_name", "brand", "category_path", "gtin",
    "package_size_text", "package_quantity", "package_unit", "price", "was_price", "currency",
    "unit_price_text", "unit_price", "in_stock", "scrape_date", "fetched_at", "source", "source_url",
    "run_id",
)  # fmt: skip
STORE_COLUMNS: tuple[str, ...] = (
    "retailer", "store_id", "store_name", "address", "postcode", "latitude", "longitude", "region",
    "scrape_date", "fetched_at", "source", "source_url", "run_id",
)  # fmt: skip
REJECTED_ITEM_COLUMNS: tuple[str, ...] = (
    "run_id", "retailer", "scrape_date", "reason", "source_url", "payload", "rejected_at",
)  # fmt: skip

STATUS_SUCCEEDED = "succeeded"
STATUS_FAILED = "failed"


def source_for(retailer: str) -> str:
    """Provenance tag of rows produced by this project's Scrapy spider for ``retailer``."""
    return f"scrapy:{retailer}"


class CrawlFailed(RuntimeError):
    """A crawl did not complete; its landing must not be loaded. The message says why and what to check."""


@dataclass(frozen=True)
class CrawlLanding:
    """The files of one completed crawl, plus its stats (``crawl_stats.json``)."""

    retailer: str
    scrape_date: dt.date
    run_id: str
    landing_dir: Path
    price_observations_path: Path
    stores_path: Path
    rejected_items_path: Path
    stats_path: Path
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.stats.get("status") == STATUS_SUCCEEDED

    @classmethod
    def from_dir(cls, landing_dir: Path | str) -> CrawlLanding:
        """Read a landing directory written by ``python -m scrapers.crawl``."""
        landing_dir = Path(landing_dir)
        stats_path = landing_dir / CRAWL_STATS_FILE
        if not stats_path.exists():
            raise FileNotFoundError(f"{stats_path} is missing: was {landing_dir} written by scrapers.crawl?")
        stats = json.loads(stats_path.read_text())
        return cls(
            retailer=stats["retailer"],
            scrape_date=dt.date.fromisoformat(stats["scrape_date"]),
            run_id=stats["run_id"],
            landing_dir=landing_dir,
            price_observations_path=landing_dir / PRICE_OBSERVATIONS_FILE,
            stores_path=landing_dir / STORES_FILE,
            rejected_items_path=landing_dir / REJECTED_ITEMS_FILE,
            stats_path=stats_path,
            stats=stats,
        )
