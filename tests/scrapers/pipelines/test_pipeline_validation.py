import pytest

from scrapers.pipelines.validation import ValidationPipeline, coerce_in_stock


def test_valid_price_observation_passes(make_price):
    item = ValidationPipeline().process_item(
        make_price(retailer_product_id=100007, product_name="  Milk 1L ")
    )
    assert item.reject_reason is None
    assert item.retailer_product_id == "100007"
    assert item.product_name == "Milk 1L"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"price": None}, "missing required field: price"),
        ({"product_name": "   "}, "missing required field: product_name"),
        ({"retailer_product_id": None, "price": ""}, "missing required fields: retailer_product_id, price"),
        ({"in_stock": None}, "missing required field: in_stock"),
        ({"in_stock": "maybe"}, "in_stock is not a boolean: 'maybe'"),
    ],
)
def test_invalid_price_observation_is_marked_with_reason(make_price, overrides, reason):
    item = ValidationPipeline().process_item(make_price(**overrides))
    assert item.reject_reason == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("InStock", True),
        ("http://schema.org/OutOfStock", False),
        (1, True),
        ("x", None),
    ],
)
def test_coerce_in_stock(raw, expected):
    assert coerce_in_stock(raw) is expected


def test_store_requires_id_and_name(make_store):
    assert ValidationPipeline().process_item(make_store()).reject_reason is None
    assert ValidationPipeline().process_item(make_store(store_name=None)).reject_reason == (
        "missing required field: store_name"
    )


def test_store_with_bad_coordinates_is_kept_without_them(make_store):
    item = ValidationPipeline().process_item(make_store(latitude=123.0, longitude="east"))
    assert item.reject_reason is None
    assert item.latitude is None and item.longitude is None


def test_unknown_item_type_is_a_programming_error():
    with pytest.raises(TypeError):
        ValidationPipeline().process_item({"price": 1})
