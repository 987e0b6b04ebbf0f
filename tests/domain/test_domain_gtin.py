"""warehouse.domain.gtin: one GTIN rule for pipelines, loaders and the demo catalogue."""

from decimal import Decimal

import pytest

from warehouse.domain.gtin import gtin_check_digit, normalise_gtin


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4006381333931", "4006381333931"),  # EAN-13
        (4006381333931, "4006381333931"),  # a JSON number
        ("4 006381 333931", "4006381333931"),  # as printed under the bars
        ("4006-3813-33931", "4006381333931"),
        ("036000291452", "0036000291452"),  # UPC-A (GTIN-12)
        (36000291452, "0036000291452"),  # UPC-A whose leading zero a JSON number lost
        ("96385074", "0000096385074"),  # EAN-8
        ("04006381333931", "4006381333931"),  # GTIN-14, indicator 0: the unit itself
        ("14006381333938", None),  # GTIN-14, indicator 1: a case of units
        (Decimal("4006381333931"), "4006381333931"),
        (4006381333931.0, "4006381333931"),
        ("4006381333932", None),  # wrong check digit
        ("400638133393", None),  # wrong length
        ("", None),
        ("   ", None),
        (None, None),
        (True, None),
        (0, None),
        (-4006381333931, None),
        (4.5, None),
        (float("nan"), None),
        (float("inf"), None),
        ([4006381333931], None),
    ],
)
def test_valid_and_invalid_gtins(raw, expected):
    assert normalise_gtin(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "٤٠٠٦٣٨١٣٣٣٩٣١",  # Arabic-Indic digits: str.isdigit() says yes, a barcode it is not
        "４００６３８１３３３９３１",  # full-width digits
        "400638133393¹",  # superscript one
        "4006381333931x",
        "EAN 4006381333931",
        "4006381333931\x00",
        "4006381333931;4006381333931",
        "400638133393\u200b1",  # zero-width space
    ],
)
def test_non_ascii_digits_and_stray_characters_are_none_not_errors(raw):
    assert normalise_gtin(raw) is None


def test_check_digit_builds_codes_the_normaliser_accepts():
    for body in ("400638133393", "978047111709", "03600029145"):
        code = body + gtin_check_digit(body)
        assert normalise_gtin(code) == code.zfill(13)
        wrong = body + str((int(gtin_check_digit(body)) + 1) % 10)
        assert normalise_gtin(wrong) is None
