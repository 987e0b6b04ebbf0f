"""warehouse.domain.prices: prices in any locale, read with price-parser/Babel, never guessed."""

from decimal import Decimal

import pytest

from warehouse.domain.prices import AmbiguousPrice, PriceParseError, locale_separators, parse_price


@pytest.mark.parametrize(
    ("raw", "kwargs", "amount", "currency"),
    [
        ("3,49", {"currency": "EUR"}, "3.49", "EUR"),  # the bug: it became 349.00
        ("2,15 €", {}, "2.15", "EUR"),
        ("€ 0,99", {}, "0.99", "EUR"),
        ("1.234,56 €", {}, "1234.56", "EUR"),
        ("1 234,56 €", {}, "1234.56", "EUR"),
        ("1\u202f234,56\u00a0€", {}, "1234.56", "EUR"),  # fr_FR narrow no-break spaces
        ("CHF 1'234.50", {}, "1234.50", "CHF"),
        ("AUD 1,234.50", {}, "1234.50", "AUD"),
        ("$3.50", {"currency": "USD"}, "3.50", "USD"),  # "$" is several currencies: the source's
        ("$3.50", {}, "3.50", None),
        ("A$2.99", {}, "2.99", "AUD"),
        ("£1.20", {}, "1.20", "GBP"),
        ("3.49 EUR", {}, "3.49", "EUR"),
        ("1,234,567", {}, "1234567", None),  # repeated: grouping
        ("1.234.567,8", {}, "1234567.8", None),
        ("12", {}, "12", None),
        ("1.234", {"locale": "de_DE"}, "1234", None),
        ("1.234", {"locale": "en_US"}, "1.234", None),
        ("1,234", {"locale": "en_GB"}, "1234", None),
        ("1,234", {"decimal_separator": ","}, "1.234", None),
        ("3,49", {"locale": "fr-FR"}, "3.49", None),
        (3.49, {"currency": "EUR"}, "3.49", "EUR"),
        (4, {}, "4", None),
        (Decimal("2.345"), {}, "2.345", None),
        ("-1,50", {}, "-1.50", None),
    ],
)
def test_parse_price(raw, kwargs, amount, currency):
    parsed = parse_price(raw, **kwargs)
    assert isinstance(parsed.amount, Decimal)
    assert parsed == (Decimal(amount), currency)


@pytest.mark.parametrize("raw", ["1.234", "1,234", "12,345 €", "EUR 999.999"])
def test_ambiguous_separator_without_locale_raises_instead_of_guessing(raw):
    with pytest.raises(AmbiguousPrice, match="ambiguous price.*set the source's locale"):
        parse_price(raw)


@pytest.mark.parametrize(
    ("raw", "locale"),
    [("3,49", "en_US"), ("1.234,56", "en_US"), ("3.49", "de_DE"), ("1,2,3", None), ("1.23.4", "de_DE")],
)
def test_text_that_contradicts_the_locale_is_rejected(raw, locale):
    with pytest.raises(PriceParseError):
        parse_price(raw, locale=locale)


@pytest.mark.parametrize(
    "raw", [None, True, "", "   ", "free", "n/a", "2 for $5", "3 x 2,50", float("nan"), float("inf"), [3], {}]
)
def test_non_prices_raise_price_parse_error(raw):
    with pytest.raises(PriceParseError):
        parse_price(raw)


def test_locale_separators_come_from_babel_and_unknown_locales_say_what_to_do():
    assert locale_separators("de_DE") == (",", ".")
    assert locale_separators("en_US") == (".", ",")
    with pytest.raises(ValueError, match="unknown locale 'xx_YY'"):
        locale_separators("xx_YY")
