"""PackSizePipeline: "4pk x 250ml", "1.5kg", "per kg", "Pack of 6" -> package_quantity (the whole
pack) + package_unit (kg | l | each) + pack_count, and unit_price, by ``warehouse.domain.units``.

``unit_price`` is price per ``package_unit`` (per kg, per litre, per item). A size we cannot read
leaves quantity, unit, count and unit price empty: the observation itself is still valid.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scrapers.items import PriceObservation
from scrapers.pipelines._base import StatsMixin
from warehouse.domain.units import PackSize
from warehouse.domain.units import parse_pack_size as parse_pack

_FOUR_PLACES = Decimal("0.0001")
_IMPERIAL_COUNTRIES = {"GB", "UK", "IE"}  # pints and gallons there are imperial ones


def parse_pack_size(text: str | None, imperial: bool = False) -> tuple[Decimal, str] | None:
    """(whole-pack quantity, unit in kg | l | each), or None: see ``warehouse.domain.units``."""
    parsed = parse_pack(text, imperial)
    return None if parsed is None else (parsed.quantity, parsed.unit)


class PackSizePipeline(StatsMixin):
    def __init__(self, imperial: bool = False):
        self.imperial = imperial

    @classmethod
    def from_crawler(cls, crawler: Any) -> PackSizePipeline:
        country = (crawler.settings.get("SMARTCART_RETAILER_COUNTRY") or "").upper()
        pipeline = cls(imperial=country in _IMPERIAL_COUNTRIES)
        pipeline.stats = crawler.stats
        return pipeline

    def process_one(self, item: Any) -> Any:
        if not isinstance(item, PriceObservation) or item.reject_reason:
            return item
        parsed: PackSize | None = parse_pack(item.package_size_text, self.imperial)
        if parsed is None:
            item.package_quantity = item.package_unit = item.unit_price = item.pack_count = None
            self.inc("pack_size_unparsed")
            return item
        quantity = parsed.quantity
        item.package_quantity = quantity.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
        item.package_unit, item.pack_count = parsed.unit, parsed.pack_count
        if item.package_quantity == 0:  # smaller than the column can hold
            item.package_quantity = item.package_unit = item.unit_price = item.pack_count = None
            self.inc("pack_size_unparsed")
            return item
        item.unit_price = (Decimal(item.price) / quantity).quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
        return item
