"""The crawl landing: the files one crawl writes and the loader reads, and their column order.

Deliberately free of Scrapy imports so ``warehouse.landing.loading`` and Dagster can use it cheaply.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Price observations are landed in PostgreSQL's COPY text format (tab-separated, \N for NULL):
# the loader streams the file to COPY untouched, so loading costs what a plain COPY costs.
PRICE_OBSERVATIONS_FILE = "price_observations.tsv"
STORES_FILE = "stores.jsonl"
REJECTED_ITEMS_FILE = "rejected_items.jsonl"
CRAWL_STATS_FILE = "crawl_stats.json"

# Column order of raw.price_observations / raw.stores / raw.rejected_items (see
# warehouse/platform/migrations/catalog/0001_raw_landing.sql); JSONL keys use the same names.
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

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _escape(text: str) -> str:
    # str.translate is slow; most values need no escaping, and four substring tests are cheap.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _copy_text(value: Any) -> str:
    return _escape(str(value))


# Formatting by exact type first (a dict lookup per value): this runs for every landed value.
_COPY_FORMATS: dict[type, Any] = {
    type(None): lambda value: "\\N",
    bool: lambda value: "t" if value else "f",
    str: _escape,
    int: str,
    float: repr,
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def copy_text_value(value: Any) -> str:
    """One value in COPY text format: NULL is \\N, booleans t/f, text escaped."""
    formatter = _COPY_FORMATS.get(type(value))
    if formatter is not None:
        return formatter(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return _copy_text(value)  # Decimal and anything else: its text, escaped


def copy_text_line(values: Any) -> str:
    return "\t".join(map(copy_text_value, values)) + "\n"


def read_copy_text(path: Path, columns: tuple[str, ...] = ()) -> list[dict[str, str | None]]:
    """Rows of a COPY text file as dicts of text (None for NULL); for tests and inspection."""
    import re

    columns = columns or PRICE_OBSERVATION_COLUMNS
    unescape = re.compile(r"\\[\\tnr]")
    rows = []
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            values = line.rstrip("\n").split("\t")
            rows.append(
                {
                    name: None if raw == "\\N" else unescape.sub(lambda m: _COPY_UNESCAPES[m.group(0)], raw)
                    for name, raw in zip(columns, values, strict=True)
                }
            )
    return rows


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
