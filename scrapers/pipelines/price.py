"""PricePipeline: prices as sources write them ("$3.50", 3.5, "AUD 1,234.50") become Decimal + currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scrapers.items import PriceObservation
from scrapers.pipelines._base import StatsMixin
from warehouse.domain import prices
from warehouse.domain.prices import AmbiguousPrice, PriceParseError

__all__ = ["AmbiguousPrice", "PriceParseError", "PricePipeline", "parse_price"]

_CENTS = Decimal("0.01")


def parse_price(
    value: Any, *, locale: str | None = None, decimal_separator: str | None = None
) -> tuple[Decimal, str | None]:
    """(amount rounded to cents, currency code if the text names one): see ``warehouse.domain.prices``."""
    amount, currency = prices.parse_price(value, locale=locale, decimal_separator=decimal_separator)
    return amount.quantize(_CENTS, rounding=ROUND_HALF_UP), currency


class PricePipeline(StatsMixin):
    def __init__(
        self,
        default_currency: str | None = None,
        locale: str | None = None,
        decimal_separator: str | None = None,
    ):
        self.default_currency = default_currency
        # how the retailer writes numbers (from its registry entry): "1.234" is then not ambiguous
        self.locale = locale
        self.decimal_separator = decimal_separator

    @classmethod
    def from_crawler(cls, crawler: Any) -> PricePipeline:
        pipeline = cls(
            default_currency=crawler.settings.get("SMARTCART_DEFAULT_CURRENCY"),
            locale=crawler.settings.get("SMARTCART_PRICE_LOCALE"),
            decimal_separator=crawler.settings.get("SMARTCART_DECIMAL_SEPARATOR"),
        )
        pipeline.stats = crawler.stats
        return pipeline

    def process_one(self, item: Any) -> Any:
        if not isinstance(item, PriceObservation) or item.reject_reason:
            return item
        try:
            price, price_currency = parse_price(
                item.price, locale=self.locale, decimal_separator=self.decimal_separator
            )
        except PriceParseError as exc:
            item.reject(str(exc))
            return item
        if price < 0:
            item.reject(f"negative price: {item.price!r}")
            return item
        currency = item.currency or price_currency or self.default_currency
        if price_currency and item.currency and price_currency != item.currency:
            item.reject(f"price currency {price_currency} contradicts item currency {item.currency}")
            return item
        if not currency:
            item.reject(f"unknown currency for price {item.price!r}: set the retailer's currency")
            return item
        item.price, item.currency = price, currency.upper()
        if item.was_price is not None and item.was_price != "":
            # A broken "was" price is not worth losing the observation for.
            try:
                was_price, _ = parse_price(
                    item.was_price, locale=self.locale, decimal_separator=self.decimal_separator
                )
                item.was_price = was_price if was_price >= 0 else None
            except PriceParseError:
                item.was_price = None
            if item.was_price is None:
                self.inc("was_price_dropped")
        else:
            item.was_price = None
        return item
