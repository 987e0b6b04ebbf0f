import pytest

from scrapers.pipelines.gtin import GtinPipeline, normalise_gtin


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9375287459225", "9375287459225"),  # GTIN-13
        (9375287459225, "9375287459225"),
        ("9375-2874-59225", "9375287459225"),
        ("036000291452", "0036000291452"),  # UPC-A (GTIN-12)
        ("96385074", "0000096385074"),  # GTIN-8
        ("09375287459225", "9375287459225"),  # GTIN-14, indicator 0
        ("19375287459222", None),  # GTIN-14 of a case (indicator 1)
        ("9375287459226", None),  # wrong check digit
        ("93752874592", None),  # wrong length
        ("abc", None),
        (None, None),
    ],
)
def test_normalise_gtin(raw, expected):
    assert normalise_gtin(raw) == expected


def test_invalid_barcode_drops_gtin_but_keeps_item(make_price):
    item = GtinPipeline().process_item(make_price(gtin="9375287459226"))
    assert item.gtin is None and item.reject_reason is None


def test_valid_barcode_normalised(make_price):
    assert GtinPipeline().process_item(make_price(gtin="036000291452")).gtin == "0036000291452"
