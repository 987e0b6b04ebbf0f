"""Postcode -> region: the one definition every stage uses.

A region is the coarsest place SmartCart reports: the state (AU). Ingestion coarsens a shopper's
postcode to it (a full postcode next to a pseudonymous id is location data; a state holds thousands
of shoppers), the optimizer keeps a split inside one region when no postcode is given, and the demo's
shopper simulator picks postcodes from it. Countries are keyed by ISO 3166-1 alpha-2 code; a postcode
of a country without a table, or outside every range, is ``UNKNOWN_REGION`` (never the postcode itself).
"""

from __future__ import annotations

UNKNOWN_REGION = "unknown"

# (first, last, region) over the postcode read as a number; the first matching range wins, so the
# ACT's enclaves inside NSW's range come first. Source: Australia Post's state allocation of postcodes.
_RANGES: dict[str, list[tuple[int, int, str]]] = {
    "AU": [
        (200, 299, "ACT"),
        (2600, 2618, "ACT"),
        (2900, 2920, "ACT"),
        (1000, 2999, "NSW"),
        (3000, 3999, "VIC"),
        (8000, 8999, "VIC"),
        (4000, 4999, "QLD"),
        (9000, 9999, "QLD"),
        (5000, 5999, "SA"),
        (6000, 6999, "WA"),
        (7000, 7999, "TAS"),
        (800, 999, "NT"),
    ],
}
# A representative postcode per region (its capital's CBD), for callers that need a place in a region.
REGION_POSTCODES: dict[str, dict[str, str]] = {
    "AU": {
        "NSW": "2000",
        "VIC": "3000",
        "QLD": "4000",
        "WA": "6000",
        "SA": "5000",
        "TAS": "7000",
        "ACT": "2600",
        "NT": "0800",
    },
}


def normalise_postcode(postcode: object) -> str:
    """Spaces removed, upper case: '3000', 'SW1A1AA'."""
    return "".join(str(postcode).split()).upper()


def postcode_region(postcode: object, country: str = "AU") -> str:
    """The region of ``postcode`` in ``country``, or ``UNKNOWN_REGION``; never raises."""
    ranges = _RANGES.get(country.upper())
    code = normalise_postcode(postcode) if postcode is not None else ""
    if ranges is None or not (code.isascii() and code.isdigit() and 3 <= len(code) <= 4):
        return UNKNOWN_REGION
    number = int(code)
    for first, last, region in ranges:
        if first <= number <= last:
            return region
    return UNKNOWN_REGION


def regions(country: str = "AU") -> list[str]:
    """Every region of ``country``, sorted."""
    return sorted({region for _, _, region in _RANGES.get(country.upper(), [])})
