"""ValidationPipeline: required fields present and typed; otherwise the item is marked for quarantine."""

from __future__ import annotations

from typing import Any

from scrapers.items import PriceObservation, RejectedPage, Store
from scrapers.pipelines._base import StatsMixin

_PROVENANCE = ("retailer", "scrape_date", "fetched_at", "source", "run_id")
PRICE_OBSERVATION_REQUIRED = (
    *_PROVENANCE,
    "store_id",
    "retailer_product_id",
    "product_name",
    "price",
    "in_stock",
)
STORE_REQUIRED = (*_PROVENANCE, "store_id", "store_name")

_TRUE = {"true", "yes", "y", "1", "instock", "in_stock", "available"}
_FALSE = {"false", "no", "n", "0", "outofstock", "out_of_stock", "unavailable"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def coerce_in_stock(value: Any) -> bool | None:
    """Booleans as sources spell them (true, "InStock", 1); None when it is not recognisably one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "").rsplit("/", 1)[-1]  # schema.org/InStock
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


class ValidationPipeline(StatsMixin):
    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidationPipeline:
        pipeline = cls()
        pipeline.stats = crawler.stats
        return pipeline

    def process_one(self, item: Any) -> Any:
        if isinstance(item, PriceObservation):
            self._validate_price_observation(item)
        elif isinstance(item, Store):
            self._validate_store(item)
        elif isinstance(item, RejectedPage):
            return item  # already rejected by the spider: quarantine takes it
        else:
            raise TypeError(f"unexpected item type {type(item).__name__}: spiders yield scrapers.items only")
        if item.reject_reason:
            self.inc("invalid_items")
        return item

    def _strip_strings(self, item: Any, names: tuple[str, ...]) -> None:
        for name in names:
            value = getattr(item, name)
            if isinstance(value, str):
                setattr(item, name, value.strip() or None)

    def _validate_price_observation(self, item: PriceObservation) -> None:
        self._strip_strings(
            item,
            (
                "store_id",
                "retailer_product_id",
                "product_name",
                "brand",
                "category_path",
                "package_size_text",
            ),
        )
        for name in ("store_id", "retailer_product_id"):
            value = getattr(item, name)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(item, name, str(value))
        missing = [name for name in PRICE_OBSERVATION_REQUIRED if _missing(getattr(item, name))]
        if missing:
            item.reject(f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
            return
        in_stock = coerce_in_stock(item.in_stock)
        if in_stock is None:
            item.reject(f"in_stock is not a boolean: {item.in_stock!r}")
            return
        item.in_stock = in_stock

    def _validate_store(self, item: Store) -> None:
        self._strip_strings(item, ("store_id", "store_name", "address", "postcode", "region"))
        if isinstance(item.store_id, int) and not isinstance(item.store_id, bool):
            item.store_id = str(item.store_id)
        missing = [name for name in STORE_REQUIRED if _missing(getattr(item, name))]
        if missing:
            item.reject(f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
            return
        # A branch with bad coordinates is still a branch its prices refer to: keep it, drop the point.
        for name, limit in (("latitude", 90), ("longitude", 180)):
            value = getattr(item, name)
            try:
                number = None if value is None else float(value)
            except (TypeError, ValueError):
                number = None
            if number is not None and not -limit <= number <= limit:
                number = None
            if value is not None and number is None:
                self.inc("store_coordinates_dropped")
            setattr(item, name, number)
