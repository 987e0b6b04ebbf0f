from decimal import Decimal

import pytest

from scrapers.pipelines.price import PriceParseError, PricePipeline, parse_price


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        (3.5, "3.50", None),
        (4, "4.00", None),
        (Decimal("2.345"), "2.35", None),
        ("$3.50", "3.50", None),
        (" 3.5 ", "3.50", None),
        ("AUD 1,234.50", "1234.50", "AUD"),
        ("A$2.99", "2.99", "AUD"),
        ("£1.20", "1.20", "GBP"),
        ("€ 0.99", "0.99", "EUR"),
    ],
)
def test_parse_price(raw, amount, currency):
    assert parse_price(raw) == (Decimal(amount), currency)


@pytest.mark.parametrize("raw", [None, True, "", "free", "2 for $5", float("nan"), [3]])
def test_parse_price_rejects_non_prices(raw):
    with pytest.raises(PriceParseError):
        parse_price(raw)


def test_pipeline_sets_decimal_price_and_currency(make_price):
    item = PricePipeline().process_item(make_price(price="$3.50", was_price=4.0, currency="AUD"))
    assert (item.price, item.was_price, item.currency) == (Decimal("3.50"), Decimal("4.00"), "AUD")


def test_pipeline_uses_default_currency_when_item_has_none(make_price):
    item = PricePipeline(default_currency="aud").process_item(make_price(price=1, currency=None))
    assert item.currency == "AUD" and item.reject_reason is None


def test_pipeline_rejects_unknown_currency_and_bad_prices(make_price):
    assert "unknown currency" in PricePipeline().process_item(make_price(currency=None)).reject_reason
    assert PricePipeline().process_item(make_price(price="n/a")).reject_reason == "unparseable price: 'n/a'"
    assert PricePipeline().process_item(make_price(price=-1)).reject_reason == "negative price: -1"
    contradiction = PricePipeline().process_item(make_price(price="£2.00", currency="AUD"))
    assert contradiction.reject_reason == "price currency GBP contradicts item currency AUD"


def test_broken_was_price_is_dropped_not_rejected(make_price):
    item = PricePipeline().process_item(make_price(was_price="see store"))
    assert item.reject_reason is None and item.was_price is None


def test_rejected_items_pass_through_untouched(make_price):
    item = make_price(price="junk")
    item.reject("earlier reason")
    assert PricePipeline().process_item(item).price == "junk"
