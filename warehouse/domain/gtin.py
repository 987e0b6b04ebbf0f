"""GTINs (EAN-8, UPC-A/GTIN-12, EAN-13, GTIN-14): the one rule every stage uses, on python-stdnum.

SmartCart keeps a consumer unit's barcode as 13 digits (GTIN-8/12 zero padded, a GTIN-14 with
packaging indicator 0 unpadded). Anything else, including a GTIN-14 naming a case (indicator
1-9), non-ASCII digits or stray characters, is ``None``: a bad barcode must never raise, because
the price beside it is still true and matching falls back to name/brand/size.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from stdnum import ean
from stdnum.exceptions import ValidationError

_SEPARATORS = re.compile(r"[ \t\-.]")  # how shops print barcodes: "4 006381 333931", "9375-2874-59225"
_ASCII_DIGITS = re.compile(r"[0-9]{8}|[0-9]{12,14}")  # str.isdigit() would admit "٤" and "²"
_GTIN_LENGTHS = (8, 12, 13, 14)


def normalise_gtin(value: object) -> str | None:
    """Return the 13-digit GTIN of a consumer unit, or None when ``value`` is not a valid one.

    Accepts text (spaces, hyphens and dots between digits are ignored) and integers (a JSON
    number loses leading zeros, which do not change the GS1 check digit). Never raises.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _normalise_integer(value)
    if isinstance(value, (float, Decimal)):
        # A barcode written as a JSON float: only an exact integer can be one.
        try:
            return _normalise_integer(int(value)) if value == int(value) else None
        except (OverflowError, ValueError):
            return None
    if isinstance(value, str):
        return _normalise_text(value)
    return None


def gtin_check_digit(body: str) -> str:
    """The GS1 check digit for the digits before it (used to build valid demo barcodes)."""
    return ean.calc_check_digit(body)


def _normalise_integer(value: int) -> str | None:
    if value <= 0 or value >= 10**14:
        return None
    return _normalise_text(str(value).zfill(13))


@functools.lru_cache(maxsize=1 << 16)  # barcodes repeat across branches and pages
def _normalise_text(value: str) -> str | None:
    compact = _SEPARATORS.sub("", value.strip())
    if len(compact) not in _GTIN_LENGTHS or not _ASCII_DIGITS.fullmatch(compact):
        return None
    try:
        digits = ean.validate(compact)
    except ValidationError:
        return None
    if len(digits) == 14:
        return digits[1:] if digits[0] == "0" else None  # indicator 1-9: a case, not a unit
    return digits.zfill(13)
