"""The one postcode -> region rule."""

import pytest

from warehouse.domain.regions import REGION_POSTCODES, UNKNOWN_REGION, postcode_region, regions


@pytest.mark.parametrize(
    ("postcode", "region"),
    [
        ("2000", "NSW"),
        ("2600", "ACT"),  # an ACT enclave inside NSW's range
        ("2913", "ACT"),
        ("2619", "NSW"),
        ("3006", "VIC"),
        ("4101", "QLD"),
        ("0800", "NT"),
        ("7000", "TAS"),
        (" 6 000 ", "WA"),
        ("x", UNKNOWN_REGION),
        ("12", UNKNOWN_REGION),
        ("٣٠٠٠", UNKNOWN_REGION),  # non-ASCII digits are no Australian postcode
        (None, UNKNOWN_REGION),
    ],
)
def test_postcode_region(postcode, region):
    assert postcode_region(postcode) == region


def test_unknown_country_is_unknown_region():
    assert postcode_region("3000", country="NZ") == UNKNOWN_REGION


def test_every_region_has_a_representative_postcode_inside_it():
    for country, by_region in REGION_POSTCODES.items():
        assert sorted(by_region) == regions(country)
        for region, postcode in by_region.items():
            assert postcode_region(postcode, country) == region
