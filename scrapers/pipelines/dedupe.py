"""DedupePipeline: one observation per (retailer, store_id, retailer_product_id) and one store per
(retailer, store_id) within a run; the first wins (paged listings repeat items when they shift).

Keys are kept as 8-byte digests so a 1M-row crawl holds tens of MB, not hundreds.
"""

from __future__ import annotations

import hashlib
from typing import Any

from scrapy.exceptions import DropItem

from scrapers.items import PriceObservation, Store
from scrapers.pipelines._base import StatsMixin


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "big")


class DuplicateItem(DropItem):
    """Not an error: the same item was already seen in this run."""


class DedupePipeline(StatsMixin):
    def __init__(self) -> None:
        self._seen: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupePipeline:
        pipeline = cls()
        pipeline.stats = crawler.stats
        return pipeline

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if item.reject_reason:
            return item
        if isinstance(item, PriceObservation):
            key = _digest("p", item.retailer, str(item.store_id), str(item.retailer_product_id))
        elif isinstance(item, Store):
            key = _digest("s", item.retailer, str(item.store_id))
        else:
            return item
        if key in self._seen:
            self.inc("duplicates")
            raise DuplicateItem(
                f"duplicate {item.item_type} {item.retailer}/{item.store_id}"
                f"/{getattr(item, 'retailer_product_id', '')}",
                log_level="DEBUG",
            )
        self._seen.add(key)
        return item
