"""The one item schema every spider yields: price observations and stores, with provenance.

Spiders fill fields with what the source says (a price may still be ``"$3.50"``, a barcode may be
invalid); the ordered pipelines in ``scrapers.pipelines`` clean, validate and quarantine them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from warehouse.domain.landing import PRICE_OBSERVATION_COLUMNS, STORE_COLUMNS


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: numeric columns take the text as is
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


@dataclass(kw_only=True)
class _Provenance:
    retailer: str
    store_id: str | None
    scrape_date: dt.date
    fetched_at: dt.datetime
    source: str
    source_url: str | None
    run_id: str
    # The record as the source sent it, kept for quarantine; never written to the clean landing files.
    raw_payload: dict[str, Any] = field(default_factory=dict, repr=False)
    # Set by a pipeline that finds the item invalid; the quarantine pipeline writes it to the rejects file.
    reject_reason: str | None = None

    def reject(self, reason: str) -> None:
        if self.reject_reason is None:  # the first reason is the root cause
            self.reject_reason = reason


@dataclass(kw_only=True)
class PriceObservation(_Provenance):
    """What one store asked for one product on one scrape date."""

    item_type = "price_observation"
    columns = PRICE_OBSERVATION_COLUMNS

    retailer_product_id: str | None
    product_name: str | None
    brand: str | None = None
    category_path: str | None = None
    gtin: str | None = None
    package_size_text: str | None = None
    package_quantity: Decimal | None = None
    package_unit: str | None = None  # kg | l | each
    price: Any = None  # raw from the spider; Decimal after PricePipeline
    was_price: Any = None
    currency: str | None = None
    unit_price_text: str | None = None
    unit_price: Decimal | None = None  # price per package_unit
    in_stock: bool | None = None

    def to_row(self) -> dict[str, Any]:
        return {name: _json_value(getattr(self, name)) for name in self.columns}


@dataclass(kw_only=True)
class Store(_Provenance):
    """A retailer's branch as its site lists it."""

    item_type = "store"
    columns = STORE_COLUMNS

    store_name: str | None
    address: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    region: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {name: _json_value(getattr(self, name)) for name in self.columns}


@dataclass(kw_only=True)
class RejectedPage(_Provenance):
    """A whole page we could not parse even after retries (malformed or truncated JSON): it is
    never landed as data, only quarantined with its reason and the start of its body."""

    item_type = "page"

    def to_row(self) -> dict[str, Any]:  # pragma: no cover - never landed
        raise TypeError("a rejected page is quarantined, never landed")


Item = PriceObservation | Store | RejectedPage


@dataclass
class ItemBatch:
    """The items of one page, passed through the pipelines together (see ``pipelines._base``)."""

    items: list[Any]
    # Set on the last page of a store's listing: no more items of this store follow in the run.
    closes_scope: str | None = None
