"""Open Prices exports (Open Food Facts' crowd-sourced prices, CSV or JSONL) as crowd reports.

An export keeps its own column names and enums; this module maps each row onto SmartCart's
crowd report fields, so the same validation and the same whole-file-or-reject load apply
(``warehouse.landing.crowd_reports``):

- ``id`` -> ``report_id`` ``openprices-<id>`` (a re-sent export converges on the same ids);
- ``product_code`` -> ``barcode``; ``product_name``; ``category_tag`` (prices of loose produce);
- ``price``, ``currency``; ``price_without_discount`` -> ``was_price``; ``price_is_discounted``;
- ``discount_type`` (QUANTITY, SALE, SEASONAL, LOYALTY_PROGRAM, EXPIRES_SOON, PICK_IT_YOURSELF,
  SECOND_HAND, OTHER) and ``proof_type`` (PRICE_TAG, RECEIPT, GDPR_REQUEST, SHOP_IMPORT) onto
  SmartCart's vocabularies; ``price_per`` (KILOGRAM, LITER, UNIT) onto ``price_unit``;
- ``location_osm_type`` + ``location_osm_id`` -> ``store_id`` ``osm:node/123``;
- ``date``.

``owner`` is a contributor's public username: it is never stored. It becomes a keyed pseudonym
(HMAC-SHA256 under a key that lives in the vault, ``Vault.keyed_pseudonyms``), which is what the
raw table keeps as ``contributor_anonymous_id``. Other export columns are dropped unread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

__all__ = ["OWNER_PSEUDONYM_PURPOSE", "is_open_prices", "to_crowd_records"]

OWNER_PSEUDONYM_PURPOSE = "open_prices_owner"
# Columns only an Open Prices export has (SmartCart's own format has none of them).
_SIGNATURE = {"product_code", "price_per", "location_osm_id", "location_osm_type", "owner", "proof_type"}
PRICE_PER = {"KILOGRAM": "kg", "LITER": "l", "LITRE": "l", "UNIT": "each"}
DISCOUNT_TYPES = {
    "QUANTITY": "multibuy",
    "SALE": "promotion",
    "SEASONAL": "promotion",
    "LOYALTY_PROGRAM": "member_price",
    "EXPIRES_SOON": "clearance",
    "PICK_IT_YOURSELF": "other",
    "SECOND_HAND": "other",
    "OTHER": "other",
}
PROOF_TYPES = {
    "PRICE_TAG": "price_tag",
    "RECEIPT": "receipt",
    "GDPR_REQUEST": "gdpr_request",
    "SHOP_IMPORT": "shop_import",
}
OSM_TYPES = {"NODE", "WAY", "RELATION"}
Pseudonymizer = Callable[[Iterable[str]], dict[str, str]]


def is_open_prices(columns: Iterable[str]) -> bool:
    """Whether a file's columns are an Open Prices export's (and not SmartCart's crowd format)."""
    names = set(columns)
    return "report_id" not in names and len(names & _SIGNATURE) >= 2


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _enum(value: Any, mapping: dict[str, str], name: str, problems: list[str]) -> str:
    text = _text(value).upper()
    if not text:
        return ""
    if text not in mapping:
        problems.append(f"{name} {text[:40]!r} is not one of {sorted(mapping)}")
        return ""
    return mapping[text]


def _price(value: Any) -> Any:
    # The export writes numbers with a "." whatever the country: read them as such, never by locale.
    if isinstance(value, str) and value.strip():
        try:
            return Decimal(value.strip())
        except ArithmeticError:
            return value  # left as text: validation says why it is not a price
    return value


def to_crowd_records(
    records: list[dict[str, Any]], pseudonymize: Pseudonymizer | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """(crowd report records, reasons) for the rows of an Open Prices export. A reason rejects
    the whole file, like any crowd report problem. ``pseudonymize`` maps owners to their keyed
    pseudonyms (the vault's); without it, a file with owners cannot be loaded."""
    owners = {_text(r.get("owner")) for r in records} - {""}
    if owners and pseudonymize is None:
        raise RuntimeError("Open Prices owners need the vault's key to be pseudonymized: pass the vault")
    pseudonyms = pseudonymize(owners) if owners else {}
    mapped, reasons = [], []
    for number, record in enumerate(records, start=1):
        problems: list[str] = []
        price_id = _text(record.get("id"))
        if not price_id:
            problems.append("id is missing (every Open Prices price has one)")
        osm_type, osm_id = (
            _text(record.get("location_osm_type")).upper(),
            _text(record.get("location_osm_id")),
        )
        store_id = ""
        if osm_type or osm_id:
            if osm_type not in OSM_TYPES or not osm_id.isdigit():
                problems.append(
                    f"location_osm_type/location_osm_id {osm_type[:10]!r}/{osm_id[:20]!r} is not an OSM "
                    f"{'/'.join(sorted(OSM_TYPES))} and a number"
                )
            else:
                store_id = f"osm:{osm_type.lower()}/{osm_id}"
        discounted = record.get("price_is_discounted")
        discount = _enum(record.get("discount_type"), DISCOUNT_TYPES, "discount_type", problems)
        owner = _text(record.get("owner"))
        if problems:
            reasons.append(f"report {number} ({price_id[:40] or 'no id'}): " + "; ".join(problems))
            continue
        mapped.append(
            {
                "report_id": f"openprices-{price_id}",
                # "op-" + 64 hex digits: an anonymous id by SmartCart's rule; the name never lands.
                "contributor_id": f"op-{pseudonyms[owner]}" if owner else "op-" + "0" * 64,
                "report_type": "price",
                "product_name": _text(record.get("product_name")) or _text(record.get("category_tag")),
                "barcode": _text(record.get("product_code")),
                "category_tag": _text(record.get("category_tag")),
                "store_id": store_id,
                "store_name": _text(record.get("location_osm_name")),
                "price": _price(record.get("price")),
                "was_price": _price(record.get("price_without_discount")),
                "price_is_discounted": discounted,
                "discount_type": discount or ("other" if str(discounted).lower() == "true" else "none"),
                "currency": _text(record.get("currency")),
                "price_unit": _enum(record.get("price_per"), PRICE_PER, "price_per", problems) or "each",
                "date": _text(record.get("date")),
                "proof_type": _enum(record.get("proof_type"), PROOF_TYPES, "proof_type", problems),
            }
        )
        if problems:  # an unknown price_per or proof_type
            mapped.pop()
            reasons.append(f"report {number} ({price_id[:40]}): " + "; ".join(problems))
    return mapped, reasons
