"""GtinPipeline: barcodes checked and normalised to 13 digits by ``warehouse.domain.gtin``.

Choice: an invalid barcode does not reject the observation. The price is still true; only the
barcode is unusable, so ``gtin`` becomes NULL and ``smartcart/gtin_invalid`` counts it (matching
then falls back to name/brand/size downstream).
"""

from __future__ import annotations

from typing import Any

from scrapers.items import PriceObservation
from scrapers.pipelines._base import StatsMixin
from warehouse.domain.gtin import normalise_gtin

__all__ = ["GtinPipeline", "normalise_gtin"]


class GtinPipeline(StatsMixin):
    @classmethod
    def from_crawler(cls, crawler: Any) -> GtinPipeline:
        pipeline = cls()
        pipeline.stats = crawler.stats
        return pipeline

    def process_one(self, item: Any) -> Any:
        if not isinstance(item, PriceObservation) or item.reject_reason:
            return item
        if item.gtin is None or (isinstance(item.gtin, str) and not item.gtin.strip()):
            item.gtin = None
            self.inc("gtin_missing")
            return item
        normalised = normalise_gtin(item.gtin)
        if normalised is None:
            self.inc("gtin_invalid")
        item.gtin = normalised
        return item
