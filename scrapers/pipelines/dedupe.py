"""DedupePipeline: one observation per (retailer, store_id, retailer_product_id) and one store per
(retailer, store_id) within a run; the first wins (paged listings repeat items when they shift).

Keys are 8-byte digests. Recent ones sit in a small Python set; every ``_SPILL`` keys they are
merged into one sorted numpy array (8 bytes a key, versus ~70 for a Python set entry), so a
1M-row crawl holds ~8 MB of keys rather than ~70 MB: the one part of a crawl's memory that grows
with its size (a disk-backed set would make it flat, at a cost per item).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from scrapy.exceptions import DropItem

from scrapers.items import PriceObservation, Store
from scrapers.pipelines._base import StatsMixin


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "big")


class DuplicateItem(DropItem):
    """Not an error: the same item was already seen in this run."""


_SPILL = 1 << 16


class SeenKeys:
    """A set of 64-bit keys: a small set of recent keys plus a sorted uint64 array of older ones."""

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._sorted = np.empty(0, dtype=np.uint64)

    def __contains__(self, key: int) -> bool:
        if key in self._recent:
            return True
        if not len(self._sorted):
            return False
        index = int(np.searchsorted(self._sorted, np.uint64(key)))
        return index < len(self._sorted) and int(self._sorted[index]) == key

    def add(self, key: int) -> None:
        self._recent.add(key)
        if len(self._recent) >= _SPILL:
            spilled = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
            self._sorted = np.union1d(self._sorted, spilled)
            self._recent.clear()

    def __len__(self) -> int:
        return len(self._recent) + len(self._sorted)

    def clear(self) -> None:
        self.__init__()


class DedupePipeline(StatsMixin):
    """Keys live per store (the scope in which listings repeat items). When a spider knows a
    store's listing is complete it marks that page's batch ``closes_scope``; the store's keys are
    then dropped, so memory follows the stores being crawled at once, not the crawl's size."""

    def __init__(self) -> None:
        self._seen: dict[str, SeenKeys] = {}
        self._stores = SeenKeys()
        self._closed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupePipeline:
        pipeline = cls()
        pipeline.stats = crawler.stats
        return pipeline

    def process_item(self, item: Any, spider: Any = None) -> Any:
        result = super().process_item(item, spider)
        scope = getattr(item, "closes_scope", None)
        if scope is not None:
            self._seen.pop(scope, None)
            self._closed.add(scope)
        return result

    def process_one(self, item: Any) -> Any:
        if item.reject_reason:
            return item
        if isinstance(item, PriceObservation):
            scope = str(item.store_id)
            if scope in self._closed:  # a page after its store's listing was declared complete
                raise RuntimeError(f"store {scope} was declared complete but more of its items arrived")
            seen = self._seen.get(scope)
            if seen is None:
                seen = self._seen[scope] = SeenKeys()
            key = _digest("p", item.retailer, str(item.store_id), str(item.retailer_product_id))
        elif isinstance(item, Store):
            seen = self._stores
            key = _digest("s", item.retailer, str(item.store_id))
        else:
            return item
        if key in seen:
            self.inc("duplicates")
            raise DuplicateItem(
                f"duplicate {item.item_type} {item.retailer}/{item.store_id}"
                f"/{getattr(item, 'retailer_product_id', '')}",
                log_level="DEBUG",
            )
        seen.add(key)
        return item
