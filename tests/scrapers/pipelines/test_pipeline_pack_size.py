from decimal import Decimal

import pytest

from scrapers.pipelines.pack_size import PackSizePipeline, parse_pack_size


@pytest.mark.parametrize(
    ("text", "quantity", "unit"),
    [
        ("6 x 375mL", "2.25", "l"),
        ("24 x 375mL", "9", "l"),
        ("4 x 125g", "0.5", "kg"),
        ("1.5kg", "1.5", "kg"),
        ("500 g", "0.5", "kg"),
        ("1kg bag", "1", "kg"),
        ("per kg", "1", "kg"),
        ("/100g", "0.1", "kg"),
        ("1L", "1", "l"),
        ("1.25L", "1.25", "l"),
        ("300mL", "0.3", "l"),
        ("75cl", "0.75", "l"),
        ("each", "1", "each"),
        ("Each", "1", "each"),
        ("dozen", "12", "each"),
        ("half dozen", "6", "each"),
        ("12 pack", "12", "each"),
        ("6 Pack", "6", "each"),
        ("0,5 l", "0.5", "l"),
    ],
)
def test_parse_pack_size(text, quantity, unit):
    parsed_quantity, parsed_unit = parse_pack_size(text)
    assert (parsed_quantity, parsed_unit) == (Decimal(quantity), unit)


@pytest.mark.parametrize("text", [None, "", "family size", "0g"])
def test_unreadable_sizes_give_none(text):
    assert parse_pack_size(text) is None


def test_pipeline_sets_quantity_unit_and_unit_price(make_price):
    item = PackSizePipeline().process_item(make_price(price=Decimal("6.75"), package_size_text="6 x 375mL"))
    assert (item.package_quantity, item.package_unit, item.unit_price) == (
        Decimal("2.2500"),
        "l",
        Decimal("3.0000"),
    )


def test_pipeline_per_kg_unit_price_is_the_price(make_price):
    item = PackSizePipeline().process_item(make_price(price=Decimal("3.90"), package_size_text="per kg"))
    assert item.unit_price == Decimal("3.9000") and item.package_unit == "kg"


def test_unreadable_size_keeps_the_item(make_price):
    item = PackSizePipeline().process_item(make_price(price=Decimal("2.00"), package_size_text="family size"))
    assert item.reject_reason is None
    assert (item.package_quantity, item.package_unit, item.unit_price) == (None, None, None)
