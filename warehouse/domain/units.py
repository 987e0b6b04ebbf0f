"""Pack sizes as shops write them -> total quantity, base unit and pack count; units through pint.

"4pk x 250ml", "375ml x 6", "2 x 6 x 330ml", "Pack of 6", "12pk", "12 fl oz", "1 gal", "100 Stück",
"30 tablets", "5 kilo", "500 grams": ``parse_pack_size`` returns a ``PackSize`` with

- ``quantity``: the whole pack in the base unit (kg, l, or each for counted goods);
- ``unit``: ``kg`` | ``l`` | ``each``;
- ``pack_count``: how many separately packed units the pack holds (1 for a single item).

Mass and volume are converted with pint. US customary volumes (fl oz, gal, pint, quart) unless
``imperial=True`` (a UK shop): a UK pint is 568 ml, a US one 473 ml. A text with no readable
size gives ``None``: the observation is still valid, only its unit price is unknown.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

import pint


@functools.cache
def _registry() -> pint.UnitRegistry:
    # built on first use (about a second of CPU): importing this module stays cheap
    return pint.UnitRegistry(non_int_type=Decimal)


# spelling -> pint unit (mass and volume) ; base unit of its dimension
_MASS = {
    "mg": "milligram", "milligram": "milligram", "milligrams": "milligram",
    "g": "gram", "gr": "gram", "grs": "gram", "gm": "gram", "gms": "gram", "gram": "gram", "grams": "gram",
    "gramm": "gram", "gramme": "gram", "grammes": "gram", "grammi": "gram", "gramos": "gram",
    "kg": "kilogram", "kgs": "kilogram", "kilo": "kilogram", "kilos": "kilogram", "kilogram": "kilogram",
    "kilograms": "kilogram", "kilogramm": "kilogram", "kilogramme": "kilogram", "kilogrammes": "kilogram",
    "lb": "pound", "lbs": "pound", "pound": "pound", "pounds": "pound",
    "oz": "ounce", "ounce": "ounce", "ounces": "ounce",
}  # fmt: skip
_VOLUME = {
    "ml": "milliliter", "mls": "milliliter", "millilitre": "milliliter", "millilitres": "milliliter",
    "milliliter": "milliliter", "milliliters": "milliliter",
    "cl": "centiliter", "centilitre": "centiliter", "centilitres": "centiliter", "centiliter": "centiliter",
    "dl": "deciliter", "decilitre": "deciliter", "deciliter": "deciliter",
    "l": "liter", "lt": "liter", "ltr": "liter", "ltrs": "liter", "litre": "liter", "litres": "liter",
    "liter": "liter", "liters": "liter", "liters.": "liter", "litro": "liter", "litri": "liter",
    "floz": "fluid_ounce", "fluidounce": "fluid_ounce", "fluidounces": "fluid_ounce",
    "gal": "gallon", "gallon": "gallon", "gallons": "gallon",
    "pt": "liquid_pint", "pint": "liquid_pint", "pints": "liquid_pint",
    "qt": "liquid_quart", "quart": "liquid_quart", "quarts": "liquid_quart",
}  # fmt: skip
_IMPERIAL = {"fluid_ounce": "imperial_fluid_ounce", "gallon": "imperial_gallon",
             "liquid_pint": "imperial_pint", "liquid_quart": "imperial_quart"}  # fmt: skip
# counted goods: a number of these is that many "each"
_COUNT_WORDS = (
    "stück|stueck|stk|st|pieces|piece|pcs|pc|each|ea|count|ct|tablets|tablet|tabs|caps|capsules|"
    "capsule|sheets|sheet|blatt|rolls|roll|rollen|eggs|egg|eier|bags|bag|beutel|sachets|sachet|pods|"
    "pod|wipes|wipe|servings|serving|slices|slice|scheiben|units|unit|items|item|bars|bar|sticks|"
    "stick|cans|can|bottles|bottle|dosen|flaschen"
)
_PACK_WORDS = r"(?:pk|pks|pack|packs|pak|packung|multipack|er[\s-]?pack|er|x|-pack|\s?pack)"
_NUM = r"(\d+(?:[.,]\d+)?)"
_INT = r"(\d{1,3})"
_UNIT_WORDS = "|".join(
    sorted((re.escape(w) for w in {*_MASS, *_VOLUME} if w not in ("floz", "fluidounce", "fluidounces")),
           key=len, reverse=True)
)  # fmt: skip
_UNIT = rf"(fl\.?\s?oz\.?|fluid\s+ounces?|{_UNIT_WORDS})"
_MEASURE = rf"{_NUM}\s*{_UNIT}(?![a-zäöü])"
_TIMES = r"\s*[x×*]\s*"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "2 x 6 x 330ml": packs of packs
    (
        "count_count_measure",
        re.compile(rf"{_INT}\s*(?:pk|pack)?{_TIMES}{_INT}\s*(?:pk|pack)?{_TIMES}{_MEASURE}"),
    ),
    # "4pk x 250ml", "4 x 250 ml", "4x250ml", "6 pack x 330ml"
    ("count_measure", re.compile(rf"{_INT}\s*(?:pk|pks|pack|packs|er)?{_TIMES}{_MEASURE}")),
    # "375ml x 6", "250 ml x 4 pack"
    ("measure_count", re.compile(rf"{_MEASURE}{_TIMES}{_INT}(?!\s*[.,]?\d)")),
    # "330ml 6 pack", "500 g (2 pack)", "250ml, 4pk"
    ("measure_pack", re.compile(rf"{_MEASURE}[\s,/()\-]*{_INT}\s*{_PACK_WORDS}\b")),
    # "6 pack 330ml", "12pk 355ml cans", "pack of 4 100g", "6er pack 0,5 l"
    ("pack_measure", re.compile(rf"pack\s+of\s+{_INT}[\s,/()\-:x×*]*{_MEASURE}")),
    ("pack_measure", re.compile(rf"{_INT}\s*{_PACK_WORDS}(?![a-zäöü])[\s,/()\-:]*(?:of\s+)?{_MEASURE}")),
    ("per_measure", re.compile(rf"(?:per|/|je|pro)\s*{_NUM}?\s*{_UNIT}(?![a-zäöü])")),
    ("measure", re.compile(_MEASURE)),
    # "6 x 10 tablets", "3 x 100 Stück"
    ("count_count_words", re.compile(rf"{_INT}{_TIMES}{_NUM}\s*(?:{_COUNT_WORDS})\b")),
    ("pack_of", re.compile(r"pack\s+of\s+(\d{1,4})\b")),
    ("count_pack", re.compile(rf"(\d{{1,4}})\s*{_PACK_WORDS}(?![a-zäöü])")),
    ("count_words", re.compile(rf"(\d{{1,5}})\s*[-]?\s*(?:{_COUNT_WORDS})(?![a-zäöü])")),
    ("dozen", re.compile(r"\b(half\s+(?:a\s+)?)?dozen\b")),
    ("each", re.compile(r"^\s*(?:each|ea|per\s+each|single|1|stück|stk|piece|unit)\s*$")),
]


@dataclass(frozen=True)
class PackSize:
    quantity: Decimal  # the whole pack, in ``unit``
    unit: str  # kg | l | each
    pack_count: int  # separately packed units in the pack (1 for a single item)


def parse_pack_size(text: str | None, imperial: bool = False) -> PackSize | None:
    """The pack a size text describes, or None when it gives no readable size."""
    if not text or not isinstance(text, str):
        return None
    return _parse(_normalise(text), imperial)


def _normalise(text: str) -> str:
    t = text.lower().replace("\u00a0", " ").replace("\u202f", " ").replace("×", "x")
    return re.sub(r"\s+", " ", t).strip()


@functools.lru_cache(maxsize=4096)
def to_base(amount: Decimal, spelling: str, imperial: bool = False) -> tuple[Decimal, str] | None:
    """``amount`` of a unit spelt ``spelling`` in kg or l (pint does the conversion)."""
    key = re.sub(r"[\s.]", "", spelling)
    if key in _MASS:
        return Decimal(_registry().Quantity(amount, _MASS[key]).to("kilogram").magnitude), "kg"
    if key in _VOLUME or key.startswith(("floz", "fluidounce")):
        unit = _VOLUME.get(key, "fluid_ounce")
        if imperial:
            unit = _IMPERIAL.get(unit, unit)
        return Decimal(_registry().Quantity(amount, unit).to("liter").magnitude), "l"
    return None


def _number(text: str) -> Decimal:
    if re.fullmatch(r"\d{1,3},\d{3}", text):  # "1,000 g": a thousands separator
        return Decimal(text.replace(",", ""))
    return Decimal(text.replace(",", "."))


@functools.lru_cache(maxsize=8192)  # sizes repeat across products and branches
def _parse(t: str, imperial: bool) -> PackSize | None:
    for kind, pattern in _PATTERNS:
        match = pattern.search(t)
        if not match:
            continue
        groups = match.groups()
        if kind == "count_count_measure":
            count, amount, unit = int(groups[0]) * int(groups[1]), groups[2], groups[3]
        elif kind == "count_measure":
            count, amount, unit = int(groups[0]), groups[1], groups[2]
        elif kind in ("measure_count", "measure_pack"):
            amount, unit, count = groups[0], groups[1], int(groups[2])
        elif kind == "pack_measure":
            count, amount, unit = int(groups[0]), groups[1], groups[2]
        elif kind == "per_measure":
            count, amount, unit = 1, groups[0] or "1", groups[1]
        elif kind == "measure":
            count, amount, unit = 1, groups[0], groups[1]
        elif kind == "count_count_words":
            packs, per_pack = int(groups[0]), _number(groups[1])
            return _pack(packs * per_pack, "each", packs)
        elif kind in ("pack_of", "count_pack"):
            count = int(groups[0])
            return _pack(Decimal(count), "each", count)
        elif kind == "count_words":
            return _pack(Decimal(groups[0]), "each", 1)
        elif kind == "dozen":
            return _pack(Decimal(6 if groups[0] else 12), "each", 1)
        else:  # each
            return _pack(Decimal(1), "each", 1)
        if count <= 0:
            return None
        base = to_base(_number(amount), unit, imperial)
        if base is None:
            continue
        per_item, base_unit = base
        return _pack(per_item * count, base_unit, count)
    return None


def _pack(quantity: Decimal, unit: str, count: int) -> PackSize | None:
    if quantity <= 0 or count <= 0:
        return None
    quantity = quantity.normalize() if quantity == quantity.to_integral() else quantity
    return PackSize(quantity, unit, count)
