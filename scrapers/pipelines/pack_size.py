"""PackSizePipeline: "6 x 375mL", "1.5kg", "per kg", "dozen" -> package_quantity + package_unit
(kg | l | each), and unit_price.

``unit_price`` is price per ``package_unit`` (per kg, per litre, per item). A size we cannot read
leaves quantity, unit and unit price empty: the observation itself is still valid.
"""

from __future__ import annotations

import functools
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scrapers.items import PriceObservation
from scrapers.pipelines._base import StatsMixin

_FOUR_PLACES = Decimal("0.0001")
_TO_BASE: dict[str, tuple[Decimal, str]] = {
    "kg": (Decimal(1), "kg"),
    "g": (Decimal("0.001"), "kg"),
    "gm": (Decimal("0.001"), "kg"),
    "mg": (Decimal("0.000001"), "kg"),
    "lb": (Decimal("0.45359237"), "kg"),
    "oz": (Decimal("0.028349523125"), "kg"),
    "l": (Decimal(1), "l"),
    "lt": (Decimal(1), "l"),
    "litre": (Decimal(1), "l"),
    "litres": (Decimal(1), "l"),
    "liter": (Decimal(1), "l"),
    "liters": (Decimal(1), "l"),
    "ml": (Decimal("0.001"), "l"),
    "cl": (Decimal("0.01"), "l"),
}
_UNIT = r"(kg|gm|g|mg|lb|oz|litres|litre|liters|liter|lt|l|ml|cl)"
_NUM = r"(\d+(?:[.,]\d+)?)"
_MULTIPACK = re.compile(rf"(\d+)\s*[x×*]\s*{_NUM}\s*{_UNIT}\b")
_MEASURE = re.compile(rf"{_NUM}\s*{_UNIT}\b")
_PER_MEASURE = re.compile(rf"(?:per|/)\s*{_NUM}?\s*{_UNIT}\b")
_COUNT = re.compile(r"(\d+)\s*(?:pack|pk|each|ea|count|ct|pieces|pcs|pc|rolls|eggs|sachets|bags)\b")
_DOZEN = re.compile(r"\b(half\s+)?dozen\b")
_EACH = re.compile(r"^\s*(?:each|ea|per\s+each|single|1)\s*$")


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


@functools.lru_cache(maxsize=4096)  # sizes repeat across products and branches
def parse_pack_size(text: str | None) -> tuple[Decimal, str] | None:
    """Return (quantity, unit in kg | l | each), or None when the text gives no size."""
    if not text:
        return None
    t = text.strip().lower()
    if match := _MULTIPACK.search(t):
        factor, base = _TO_BASE[match.group(3)]
        quantity = int(match.group(1)) * _decimal(match.group(2)) * factor
    elif match := _PER_MEASURE.search(t):  # priced by weight/volume: "per kg", "/100g"
        factor, base = _TO_BASE[match.group(2)]
        quantity = (_decimal(match.group(1)) if match.group(1) else Decimal(1)) * factor
    elif match := _MEASURE.search(t):
        factor, base = _TO_BASE[match.group(2)]
        quantity = _decimal(match.group(1)) * factor
    elif match := _DOZEN.search(t):
        quantity, base = Decimal(6 if match.group(1) else 12), "each"
    elif match := _COUNT.search(t):
        quantity, base = Decimal(match.group(1)), "each"
    elif _EACH.match(t):
        quantity, base = Decimal(1), "each"
    else:
        return None
    if quantity <= 0:
        return None
    return quantity.normalize() if quantity == quantity.to_integral() else quantity, base


class PackSizePipeline(StatsMixin):
    @classmethod
    def from_crawler(cls, crawler: Any) -> PackSizePipeline:
        pipeline = cls()
        pipeline.stats = crawler.stats
        return pipeline

    def process_one(self, item: Any) -> Any:
        if not isinstance(item, PriceObservation) or item.reject_reason:
            return item
        parsed = parse_pack_size(item.package_size_text)
        if parsed is None:
            item.package_quantity = item.package_unit = item.unit_price = None
            self.inc("pack_size_unparsed")
            return item
        quantity, unit = parsed
        item.package_quantity = quantity.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
        item.package_unit = unit
        if item.package_quantity == 0:  # smaller than the column can hold
            item.package_quantity = item.package_unit = item.unit_price = None
            self.inc("pack_size_unparsed")
            return item
        item.unit_price = (Decimal(item.price) / quantity).quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
        return item
