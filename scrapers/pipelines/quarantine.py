"""QuarantinePipeline: items marked invalid go to ``rejected_items.jsonl`` with reason and raw payload."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from scrapy.exceptions import DropItem

from scrapers.pipelines._base import JsonLinesWriter, StatsMixin, landing_dir_from_settings
from warehouse.domain.landing import REJECTED_ITEMS_FILE


class QuarantinedItem(DropItem):
    """The item was written to the rejects file; it goes no further."""


class QuarantinePipeline(StatsMixin):
    def __init__(self, landing_dir: Path):
        self.path = Path(landing_dir) / REJECTED_ITEMS_FILE
        self._writer: JsonLinesWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> QuarantinePipeline:
        pipeline = cls(landing_dir_from_settings(crawler.settings))
        pipeline.stats = crawler.stats
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        self._writer = JsonLinesWriter(self.path)

    def close_spider(self, spider: Any = None) -> None:
        if self._writer is not None:
            self._writer.close()

    def process_one(self, item: Any) -> Any:
        if not item.reject_reason:
            return item
        if self._writer is None:
            raise RuntimeError("QuarantinePipeline used before open_spider()")
        self._writer.write(
            {
                "run_id": item.run_id,
                "retailer": item.retailer,
                "scrape_date": item.scrape_date.isoformat(),
                "reason": f"{item.item_type}: {item.reject_reason}",
                "source_url": item.source_url,
                "payload": item.raw_payload,
                "rejected_at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        self.inc("rejects")
        raise QuarantinedItem(f"quarantined {item.item_type}: {item.reject_reason}", log_level="DEBUG")
