"""PricePipeline: prices as sources write them ("$3.50", 3.5, "AUD 1,234.50") become Decimal + currency."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from scrapers.items import PriceObservation
from scrapers.pipelines._base import StatsMixin

_CENTS = Decimal("0.01")
# Symbols that name one currency; a bare "$" does not, so the retailer's configured currency decides.
_SYMBOLS = {"A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "US$": "USD", "£": "GBP", "€": "EUR"}
_CODE = re.compile(r"\b([A-Z]{3})\b")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


class PriceParseError(ValueError):
    pass


def parse_price(value: Any) -> tuple[Decimal, str | None]:
    """Return (amount rounded to cents, currency code if the text names one)."""
    if isinstance(value, bool) or value is None:
        raise PriceParseError(f"not a price: {value!r}")
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise PriceParseError(f"not a price: {value!r}") from None
        currency = None
    elif isinstance(value, str):
        text = value.strip()
        currency = next((code for symbol, code in _SYMBOLS.items() if symbol in text), None)
        if currency is None and (match := _CODE.search(text)):
            currency = match.group(1)
        numbers = _NUMBER.findall(text.replace(" ", ""))
        if len(numbers) != 1:
            raise PriceParseError(f"unparseable price: {value!r}")
        amount = Decimal(numbers[0].replace(",", ""))
    else:
        raise PriceParseError(f"not a price: {value!r}")
    if not amount.is_finite():
        raise PriceParseError(f"not a finite price: {value!r}")
    return amount.quantize(_CENTS, rounding=ROUND_HALF_UP), currency


class PricePipeline(StatsMixin):
    def __init__(self, default_currency: str | None = None):
        self.default_currency = default_currency

    @classmethod
    def from_crawler(cls, crawler: Any) -> PricePipeline:
        pipeline = cls(default_currency=crawler.settings.get("SMARTCART_DEFAULT_CURRENCY"))
        pipeline.stats = crawler.stats
        return pipeline

    def process_one(self, item: Any) -> Any:
        if not isinstance(item, PriceObservation) or item.reject_reason:
            return item
        try:
            price, price_currency = parse_price(item.price)
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
                was_price, _ = parse_price(item.was_price)
                item.was_price = was_price if was_price >= 0 else None
            except PriceParseError:
                item.was_price = None
            if item.was_price is None:
                self.inc("was_price_dropped")
        else:
            item.was_price = None
        return item
