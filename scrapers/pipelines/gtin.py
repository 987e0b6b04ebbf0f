"""GtinPipeline: barcodes checked (GS1 check digit) and normalised to 13 digits.

Choice: an invalid barcode does not reject the observation. The price is still true; only the
barcode is unusable, so ``gtin`` becomes NULL and ``smartcart/gtin_invalid`` counts it (matching
then falls back to name/brand/size downstream).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from scrapers.items import PriceObservation
from scrapers.pipelines._base import StatsMixin

_SEPARATORS = re.compile(r"[\s\-.]")


def gtin_check_digit_ok(digits: str) -> bool:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def normalise_gtin(value: Any) -> str | None:
    if isinstance(value, str):
        return _normalise_gtin_text(value)
    return _normalise_gtin(value)


@functools.lru_cache(maxsize=1 << 16)
def _normalise_gtin_text(value: str) -> str | None:
    return _normalise_gtin(value)


def _normalise_gtin(value: Any) -> str | None:
    """GTIN-8/12/13/14 with a valid check digit -> 13 digits (zero padded); anything else -> None.

    A GTIN-14 whose packaging indicator is not 0 names a case, not a consumer unit: None.
    """
    if value is None or isinstance(value, bool):
        return None
    text = _SEPARATORS.sub("", str(value))
    if not text.isdigit() or len(text) not in (8, 12, 13, 14) or not gtin_check_digit_ok(text):
        return None
    if len(text) == 14:
        return text[1:] if text[0] == "0" else None
    return text.zfill(13)


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
