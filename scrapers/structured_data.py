"""schema.org product data from any shop's HTML, through extruct (JSON-LD, microdata, RDFa).

``extract_page(html, url)`` returns the page's stores and its product offers as flat records
(``SchemaOffer``): one per offer of every ``Product`` (and every variant of a ``ProductGroup``),
whatever shape the platform writes:

- JSON-LD (any ``type`` attribute spelling, several scripts, ``@graph``, lists), microdata, RDFa;
- offers as one object, a list, or an ``AggregateOffer`` (its own ``offers`` when listed, else its
  ``lowPrice``: the "from" price the shop shows; ``highPrice`` stays in the raw payload);
- ``price`` as a string or number, or only in ``priceSpecification``; ``UnitPriceSpecification``
  with ``referenceQuantity`` gives the unit price, ``priceType`` ``ListPrice``/``StrikethroughPrice``
  the was-price; ``priceCurrency`` wherever it is given (offer, specification, aggregate, product);
- availability as a full URL or the short form; ``gtin``/``gtin8/12/13/14`` and ``sku`` on the
  product or the offer; size/weight as text or ``QuantitativeValue`` (UN/CEFACT ``unitCode`` or
  ``unitText``); brand as text or ``Brand``/``Organization``; HTML entities decoded.

Values stay raw text where the pipelines clean them (prices, sizes, barcodes). Free of Scrapy.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import asdict, dataclass
from typing import Any

from extruct.jsonld import JsonLdExtractor
from extruct.rdfa import RDFaExtractor
from extruct.utils import parse_html, parse_xmldom_html
from extruct.w3cmicrodata import LxmlMicrodataExtractor

PRODUCT_TYPES = {"Product", "ProductModel", "IndividualProduct", "SomeProducts", "Vehicle"}
STORE_TYPES = {"GroceryStore", "Store", "LocalBusiness", "Supermarket", "ConvenienceStore"}
IN_STOCK = {"InStock", "LimitedAvailability", "OnlineOnly", "InStoreOnly", "PreOrder", "PreSale"}
OUT_OF_STOCK = {"OutOfStock", "SoldOut", "Discontinued", "BackOrder", "Reserved", "MadeToOrder"}
WAS_PRICE_TYPES = {"ListPrice", "StrikethroughPrice", "SRP", "MSRP", "InvoicePrice"}
GTIN_KEYS = ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean", "isbn")
# UN/CEFACT common codes (schema.org unitCode) -> the unit words our pack-size parser reads
UNIT_CODES = {
    "GRM": "g", "KGM": "kg", "MGM": "mg", "MLT": "ml", "LTR": "l", "CLT": "cl", "DLT": "dl",
    "ONZ": "oz", "LBR": "lb", "OZA": "fl oz", "OZI": "fl oz", "GLL": "gal", "PTI": "pint",
    "H87": "each", "C62": "each", "EA": "each", "XPK": "pack", "NMP": "pack", "MTR": "m", "CMT": "cm",
}  # fmt: skip
_SCHEMA_IRI = re.compile(r"^https?://schema\.org/")
_JSON_LD_OPEN = re.compile(rb"<script[^>]+type\s*=\s*[\"']?application/ld\+json", re.I)
_SCRIPT_CLOSE = re.compile(rb"</script\s*>", re.I)


class StructuredDataError(ValueError):
    """The page's structured data could not be read (truncated page, broken JSON-LD)."""


@dataclass
class SchemaOffer:
    """One product offer, flat: what the pipelines need, raw where they clean it."""

    sku: str | None
    name: str | None
    brand: str | None
    category: str | None
    gtin: str | None
    size: str | None
    price: Any
    was_price: Any
    unit_price_text: str | None
    currency: str | None
    availability: str | None
    in_stock: bool | None
    url: str | None
    store_ref: str | None  # availableAtOrFrom: branchCode or @id, None for the online shop
    price_note: str | None  # e.g. "AggregateOffer lowPrice (range 1.99-2.49)"

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SchemaStore:
    node: dict[str, Any]


def extract_page(body: str | bytes, url: str) -> tuple[list[SchemaStore], list[SchemaOffer]]:
    """Stores and product offers of one page. Raises ``StructuredDataError`` on a broken page."""
    nodes = schema_nodes(body, url)
    stores = [SchemaStore(n) for n in nodes if types_of(n) & STORE_TYPES]
    offers: list[SchemaOffer] = []
    seen: set[int] = set()
    for node in nodes:
        if id(node) in seen:
            continue
        kinds = types_of(node)
        if "ProductGroup" in kinds:
            variants = [v for v in as_list(node.get("hasVariant")) if isinstance(v, dict)]
            seen.update(id(v) for v in variants)
            for variant in variants or [node]:
                offers.extend(product_offers(_inherit(node, variant)))
        elif kinds & PRODUCT_TYPES:
            offers.extend(product_offers(node))
    return stores, offers


def schema_nodes(body: str | bytes, url: str) -> list[dict[str, Any]]:
    """Every schema.org node of the page (JSON-LD, microdata, RDFa), nested ones included."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(_JSON_LD_OPEN.findall(raw)) > len(_SCRIPT_CLOSE.findall(raw)):
        raise StructuredDataError("a JSON-LD script is not closed (truncated page?)")
    try:
        tree = parse_html(raw, encoding="utf-8")
    except Exception as exc:  # lxml raises several kinds (empty document, bad encoding)
        raise StructuredDataError(f"page is not HTML ({exc})") from None
    if tree is None:
        raise StructuredDataError("page is empty")
    roots: list[Any] = []
    if _JSON_LD_OPEN.search(raw):
        # extruct looks for type="application/ld+json" spelt exactly; shops also write
        # "application/ld+json; charset=utf-8" or other cases.
        for script in tree.iter("script"):
            kind = (script.get("type") or "").split(";")[0].strip().lower()
            if kind == "application/ld+json":
                script.set("type", "application/ld+json")
        try:
            roots.extend(JsonLdExtractor().extract_items(tree, base_url=url))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise StructuredDataError(f"JSON-LD is not valid JSON ({exc})") from None
    if b"itemscope" in raw:  # cheap tests first: most pages carry one syntax
        roots.extend(_compact_microdata(LxmlMicrodataExtractor().extract_items(tree, url)))
    if b"typeof=" in raw or b"property=" in raw:
        rdfa = RDFaExtractor().extract_items(parse_xmldom_html(raw, encoding="utf-8"), base_url=url)
        roots.extend(_compact_rdfa(rdfa))
    nodes: list[dict[str, Any]] = []
    _walk(roots, nodes)
    return nodes


_CONTAINER_KEYS = ("@graph", "mainEntity", "itemListElement", "item")


def _walk(value: Any, out: list[dict[str, Any]]) -> None:
    """Typed nodes at the top, in ``@graph`` and in page containers (ItemPage, ItemList). Offers
    and variants are not collected: they are read from their product."""
    if isinstance(value, list):
        for element in value:
            _walk(element, out)
    elif isinstance(value, dict):
        if "@type" in value:
            out.append(value)
        for key in _CONTAINER_KEYS:
            if isinstance(value.get(key), (dict, list)):
                _walk(value[key], out)


def _compact_microdata(value: Any) -> Any:
    """extruct's microdata items ({"type", "properties"}) in the compact JSON-LD shape."""
    if isinstance(value, list):
        return [_compact_microdata(v) for v in value]
    if not isinstance(value, dict) or "properties" not in value:
        return value
    out = {key: _compact_microdata(v) for key, v in value["properties"].items()}
    out["@type"] = [_SCHEMA_IRI.sub("", t) for t in as_list(value.get("type"))]
    if value.get("id"):
        out["@id"] = value["id"]
    return out


def _compact_rdfa(expanded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """extruct's RDFa is expanded JSON-LD: give it the compact shape of the other two syntaxes."""
    by_id = {n.get("@id"): n for n in expanded if isinstance(n, dict)}
    referenced: set[str] = set()

    def compact(node: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, values in node.items():
            if key == "@type":
                out["@type"] = [_SCHEMA_IRI.sub("", t) for t in as_list(values)]
                continue
            if key.startswith("@") or not _SCHEMA_IRI.match(key):
                continue
            converted = []
            for value in as_list(values):
                if isinstance(value, dict) and "@value" in value:
                    converted.append(value["@value"])
                elif isinstance(value, dict) and "@id" in value:
                    target = by_id.get(value["@id"])
                    if target is not None and depth < 5 and "@type" in target:
                        referenced.add(value["@id"])
                        converted.append(compact(target, depth + 1))
                    else:
                        converted.append(value["@id"])
            out[_SCHEMA_IRI.sub("", key)] = converted[0] if len(converted) == 1 else converted
        return out

    compacted = [(n.get("@id"), compact(n)) for n in expanded if isinstance(n, dict) and "@type" in n]
    return [node for node_id, node in compacted if node_id not in referenced]


def types_of(node: dict[str, Any]) -> set[str]:
    return {str(t).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for t in as_list(node.get("@type"))}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str | None:
    """A plain string: first of a list, ``name`` of a Thing, ``@value``, entities decoded."""
    if isinstance(value, list):
        value = next((v for v in value if v not in (None, "")), None)
    if isinstance(value, dict):
        value = value.get("name", value.get("@value"))
        return text(value)
    if value is None or isinstance(value, bool):
        return None
    decoded = html_lib.unescape(html_lib.unescape(str(value))).strip()  # "&amp;#039;" is double-encoded
    return decoded or None


def _inherit(group: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """A variant of a ProductGroup with the group's fields it does not override."""
    merged = {k: v for k, v in group.items() if k not in ("hasVariant", "@type", "offers")}
    merged.update(variant)
    if "offers" not in variant and "offers" in group:
        merged["offers"] = group["offers"]
    return merged


def product_offers(product: dict[str, Any]) -> list[SchemaOffer]:
    offers, notes = _offers(product.get("offers"))
    if not offers:
        offers, notes = [{}], [None]  # a product without offers: quarantined later for its price
    records = []
    for offer, note in zip(offers, notes, strict=True):
        price, was_price, unit_price, spec_currency = _prices(offer)
        availability = text(offer.get("availability") or product.get("availability"))
        short = availability.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if availability else None
        place = offer.get("availableAtOrFrom")
        store_ref = None
        if isinstance(place, dict):
            store_ref = text(place.get("branchCode")) or text(place.get("@id"))
        elif isinstance(place, str):
            store_ref = place
        records.append(
            SchemaOffer(
                sku=text(offer.get("sku")) or text(product.get("sku")) or text(product.get("productID")),
                name=text(product.get("name")),
                brand=text(product.get("brand")) or text(product.get("manufacturer")),
                category=_category(product.get("category")),
                gtin=_gtin(offer) or _gtin(product),
                size=_size(product),
                price=price,
                was_price=was_price,
                unit_price_text=unit_price,
                currency=text(offer.get("priceCurrency"))
                or spec_currency
                or text(offer.get("_aggregate_currency"))
                or text(product.get("priceCurrency")),
                availability=short,
                in_stock=True if short in IN_STOCK else False if short in OUT_OF_STOCK else None,
                url=text(offer.get("url")) or text(product.get("url")),
                store_ref=store_ref,
                price_note=note,
            )
        )
    return records


def _offers(value: Any) -> tuple[list[dict[str, Any]], list[str | None]]:
    offers: list[dict[str, Any]] = []
    notes: list[str | None] = []
    for offer in as_list(value):
        if not isinstance(offer, dict):
            continue
        if "AggregateOffer" in types_of(offer):
            inner = [o for o in as_list(offer.get("offers")) if isinstance(o, dict)]
            currency = offer.get("priceCurrency")
            if inner:
                for o in inner:
                    offers.append({"_aggregate_currency": currency, **o})
                    notes.append(None)
                continue
            low, high = offer.get("lowPrice", offer.get("price")), offer.get("highPrice")
            offers.append({**offer, "price": low})
            notes.append(f"AggregateOffer lowPrice (range {low}-{high})" if high not in (None, low) else None)
        else:
            offers.append(offer)
            notes.append(None)
    return offers, notes


def _prices(offer: dict[str, Any]) -> tuple[Any, Any, str | None, str | None]:
    """(price, was-price, unit price text, currency of the specification) of one offer."""
    price = offer.get("price")
    if isinstance(price, (list, dict)):
        price = text(price)
    was_price = None
    unit_price = None
    currency = None
    for spec in as_list(offer.get("priceSpecification")):
        if not isinstance(spec, dict):
            continue
        spec_price = spec.get("price", spec.get("minPrice"))
        price_type = text(spec.get("priceType"))
        price_type = price_type.rsplit("/", 1)[-1] if price_type else None
        currency = currency or text(spec.get("priceCurrency"))
        if price_type in WAS_PRICE_TYPES:
            was_price = was_price if was_price is not None else spec_price
        elif spec.get("referenceQuantity") is not None or spec.get("unitCode") or spec.get("unitText"):
            reference = spec.get("referenceQuantity")
            per = _quantity_text(reference) if isinstance(reference, dict) else text(reference)
            per = per or UNIT_CODES.get(str(spec.get("unitCode")), text(spec.get("unitText")))
            unit_price = f"{spec_price} / {per}" if per else str(spec_price)
        elif price in (None, ""):
            price = spec_price  # the price given only in priceSpecification
    return price, was_price, unit_price, currency


def _gtin(node: dict[str, Any]) -> str | None:
    for key in GTIN_KEYS:
        value = node.get(key)
        if value not in (None, "", []):
            return text(value) if not isinstance(value, int) else str(value)
    return None


def _quantity_text(value: dict[str, Any]) -> str | None:
    amount = value.get("value")
    code = text(value.get("unitCode"))
    unit = UNIT_CODES.get(code.upper(), None) if code else None
    unit = unit or text(value.get("unitText")) or code
    if amount in (None, ""):
        return unit
    return f"{text(amount)} {unit}" if unit else text(amount)


def _size(product: dict[str, Any]) -> str | None:
    for key in ("size", "weight", "netContent", "volume"):
        value = product.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict) and ("value" in value or "unitCode" in value or "unitText" in value):
            return _quantity_text(value)
        if value not in (None, ""):
            return text(value)
    return None


def _category(value: Any) -> str | None:
    if isinstance(value, list):
        parts = [text(v) for v in value]
        return " > ".join(p for p in parts if p) or None
    return text(value)
