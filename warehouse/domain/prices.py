"""Prices as shops and contributors write them -> Decimal + ISO currency, never guessed.

The number is read with price-parser once its decimal separator is known: from the caller
(``decimal_separator``), from the retailer's locale (Babel's number symbols), or from the text
itself when it cannot be anything else ("3,49", "1.234,56", "1,234,567"). A single separator
followed by exactly three digits ("1.234", "12,345") is a thousand or a fraction depending on the
country: without a locale it raises ``AmbiguousPrice`` so the row is quarantined, not guessed.
A text whose grouping contradicts the locale ("3,49" in an en_US shop) raises too: it means the
retailer's configured locale is wrong, and a wrong price is worse than a missing one.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol, list_currencies
from price_parser import Price

# Symbols that name one currency. "$", "kr", "¥" name several: the retailer's currency decides.
_SYMBOL_CURRENCY = {
    "€": "EUR", "£": "GBP", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "US$": "USD", "C$": "CAD",
    "CA$": "CAD", "R$": "BRL", "zł": "PLN", "₹": "INR", "₽": "RUB", "₺": "TRY", "₩": "KRW",
    "Kč": "CZK", "Ft": "HUF", "₪": "ILS", "₫": "VND", "฿": "THB", "₱": "PHP", "Fr.": "CHF",
}  # fmt: skip
_GROUPING_CHARACTERS = " \u00a0\u202f'’"  # spaces (plain, no-break, narrow) and the Swiss apostrophe
# One number: digits, possibly with separators between digits ("1 234,56", "1'234.50").
_NUMBER = re.compile(r"\d(?:[\d.,'’ \u00a0\u202f]*\d)?")
_SIGN = re.compile(r"-\s*$")


class PriceParseError(ValueError):
    """The value is not one price (empty, words, two numbers, a bad grouping)."""


class AmbiguousPrice(PriceParseError):
    """The decimal separator cannot be told without the retailer's locale: quarantine, do not guess."""


class ParsedPrice(NamedTuple):
    amount: Decimal
    currency: str | None  # ISO 4217 code when the text names one unambiguously


def parse_price(
    value: object,
    *,
    currency: str | None = None,
    locale: str | None = None,
    decimal_separator: str | None = None,
) -> ParsedPrice:
    """Parse one price. ``locale`` (e.g. "de_DE") or ``decimal_separator`` ("," or ".") say how
    the source writes numbers; ``currency`` is the source's currency, used as price-parser's hint
    and returned when the text names none. Raises ``PriceParseError`` / ``AmbiguousPrice``.
    """
    if value is None or isinstance(value, bool):
        raise PriceParseError(f"not a price: {value!r}")
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise PriceParseError(f"not a price: {value!r}") from None
        if not amount.is_finite():
            raise PriceParseError(f"not a finite price: {value!r}")
        return ParsedPrice(amount, _iso_currency(currency))
    if not isinstance(value, str):
        raise PriceParseError(f"not a price: {value!r}")
    separator = decimal_separator or (locale_separators(locale)[0] if locale else None)
    amount, named_currency = _parse_text(value, separator)
    return ParsedPrice(amount, named_currency or _iso_currency(currency))


@functools.lru_cache(maxsize=256)
def locale_separators(locale: str) -> tuple[str, str]:
    """(decimal separator, grouping separator) of a CLDR locale such as "de_DE" or "fr-FR"."""
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}: use a CLDR locale such as 'de_DE' or 'en_US'") from exc
    return get_decimal_symbol(parsed), get_group_symbol(parsed)


@functools.lru_cache(maxsize=1 << 14)  # a crawl repeats the same few thousand price texts
def _parse_text(text: str, decimal_separator: str | None) -> tuple[Decimal, str | None]:
    numbers = list(_NUMBER.finditer(text))
    if len(numbers) != 1:
        raise PriceParseError(f"unparseable price: {text!r}")
    token = numbers[0].group().strip()
    separator = decimal_separator or _decimal_separator_from_text(text, token)
    _check_grouping(text, token, separator)
    parsed = Price.fromstring(text, decimal_separator=separator)
    if parsed.amount is None:
        raise PriceParseError(f"unparseable price: {text!r}")
    amount = -parsed.amount if _SIGN.search(text[: numbers[0].start()]) else parsed.amount
    return amount, _iso_currency(parsed.currency)


def _decimal_separator_from_text(text: str, token: str) -> str:
    """The decimal separator a number's own shape proves, or AmbiguousPrice."""
    marks = [c for c in token if c in ".,"]
    if not marks:
        return "."  # an integer: either separator reads it the same
    if len(set(marks)) == 2:
        return marks[-1]  # "1.234,56" / "1,234.56": the last one is the decimal
    if len(marks) > 1:
        return "," if marks[0] == "." else "."  # "1.234.567": repeated, so grouping
    digits_after = len(token) - token.rindex(marks[0]) - 1
    if digits_after == 3:
        raise AmbiguousPrice(
            f"ambiguous price {text!r}: {marks[0]!r} may be a decimal or a thousands separator; "
            "set the source's locale (or decimal separator) so it is not guessed"
        )
    return marks[0]


def _check_grouping(text: str, token: str, decimal_separator: str) -> None:
    integer_part, _, fraction = token.partition(decimal_separator)
    if any(c in ".," for c in fraction):
        raise PriceParseError(
            f"unparseable price {text!r}: separators after the decimal {decimal_separator!r}"
        )
    groups = re.split(r"[.,'’ \u00a0\u202f]", integer_part)
    # Grouped digits come in threes (the Indian lakh style has twos before the last three).
    if len(groups) > 1 and (len(groups[-1]) != 3 or any(len(g) not in (2, 3) for g in groups[1:-1])):
        raise PriceParseError(
            f"price {text!r} does not fit decimal separator {decimal_separator!r}: check the source's locale"
        )


@functools.lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def _iso_currency(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    if text.upper() in _iso_codes() and len(text) == 3:
        return text.upper()
    return _SYMBOL_CURRENCY.get(text)
