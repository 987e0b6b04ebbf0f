"""How money looks in materialization metadata: rounded to cents, never 87.47999999999999.

Solver and float arithmetic leave binary noise in totals; the UI shows metadata as stored, so every
money value is rounded here before it is put in metadata (the warehouse keeps its own numeric types).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def cents(value: float | Decimal | None) -> float | None:
    """A money amount rounded half-up to cents, for display; None stays None."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rounded_to_cents(document: object) -> object:
    """A JSON-like document (a split result) with every non-integer number rounded to cents: its
    numbers are prices, totals, savings and distances, all shown to two decimals."""
    if isinstance(document, dict):
        return {key: rounded_to_cents(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [rounded_to_cents(value) for value in document]
    if isinstance(document, float | Decimal) and not isinstance(document, bool):
        return cents(document)
    return document
