"""The demo market's catalogue model: stores, products and prices, independent of any website format.

Everything is a pure function of ``(seed, index)`` for identity and ``(seed, date, store, product)``
for prices, computed lazily: a page of 100 products costs 100 small computations whatever the
catalogue size, so 50,000 products x 20 stores needs no memory beyond one page. Renderers
(``freshmart`` JSON API today; Next.js and sitemap/JSON-LD shops later) only format what this
module returns, so the same catalogue backs several fictional retailers (``RETAILERS``): each
carries most of the products under its own ids, names and branches, with its own prices, while a
product keeps the same GTIN-13 everywhere (or none). ``truth_records`` says which retailer product is
which canonical product, so matching can be scored.

Dates move the market: prices drift day to day, promotions come and go (some fake: a was-price
above anything charged in the last 30 days), a share of products shrink their pack at the same
price from a product-specific day on, and items go out of stock.

Determinism: ``random.Random`` seeded with a ``str`` hashes it with SHA-512, which does not depend on
``PYTHONHASHSEED``; same inputs give the same values in every process.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zlib
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from warehouse.domain.gtin import gtin_check_digit

# (category path, product noun, adjectives, sizes, base price per size unit range, brands)
# Sizes are (text, quantity in base unit, base unit) where base unit is kg, l or each.
_CATEGORIES: list[
    tuple[str, str, list[str], list[tuple[str, float, str]], tuple[float, float], list[str]]
] = [
    (
        "Dairy > Milk",
        "Milk",
        ["Full Cream", "Lite", "Skim", "Lactose Free", "A2 Full Cream"],
        [("1L", 1, "l"), ("2L", 2, "l"), ("3L", 3, "l")],
        (1.4, 2.6),
        ["Dairy Meadows", "Paddock Fresh", "FreshMart"],
    ),
    (
        "Dairy > Yoghurt",
        "Yoghurt",
        ["Greek Style", "Vanilla", "Strawberry", "Natural"],
        [("500g", 0.5, "kg"), ("1kg", 1, "kg"), ("4 x 125g", 0.5, "kg")],
        (5.0, 11.0),
        ["Alpine Dairy", "Paddock Fresh", "FreshMart"],
    ),
    (
        "Dairy > Cheese",
        "Cheese",
        ["Tasty", "Mild", "Colby", "Parmesan Grated", "Mozzarella Shredded"],
        [("250g", 0.25, "kg"), ("500g", 0.5, "kg"), ("1kg", 1, "kg")],
        (10.0, 24.0),
        ["Alpine Dairy", "Coastal Creamery", "FreshMart"],
    ),
    (
        "Bakery > Bread",
        "Bread",
        ["White Sandwich", "Wholemeal", "Multigrain", "Sourdough", "Rye"],
        [("650g", 0.65, "kg"), ("700g", 0.7, "kg"), ("each", 1, "each")],
        (3.5, 9.0),
        ["Golden Oven", "Baker Street", "FreshMart"],
    ),
    (
        "Fruit & Veg > Fruit",
        "Bananas",
        ["Cavendish", "Lady Finger", "Organic"],
        [("per kg", 1, "kg"), ("1kg bag", 1, "kg"), ("each", 1, "each")],
        (2.9, 6.5),
        ["FreshMart", "Orchard Valley"],
    ),
    (
        "Fruit & Veg > Fruit",
        "Apples",
        ["Pink Lady", "Granny Smith", "Royal Gala", "Fuji"],
        [("per kg", 1, "kg"), ("1.5kg", 1.5, "kg"), ("each", 1, "each")],
        (3.5, 7.5),
        ["Orchard Valley", "FreshMart"],
    ),
    (
        "Fruit & Veg > Vegetables",
        "Potatoes",
        ["Washed", "Brushed", "Baby", "Sweet"],
        [("2kg", 2, "kg"), ("4kg", 4, "kg"), ("per kg", 1, "kg")],
        (1.5, 4.5),
        ["Field Harvest", "FreshMart"],
    ),
    (
        "Pantry > Pasta",
        "Pasta",
        ["Spaghetti", "Penne", "Fusilli", "Lasagne Sheets"],
        [("500g", 0.5, "kg"), ("1kg", 1, "kg")],
        (2.0, 6.0),
        ["Bella Cucina", "Nonna's", "FreshMart"],
    ),
    (
        "Pantry > Breakfast",
        "Cereal",
        ["Corn Flakes", "Muesli", "Oat Clusters", "Bran Flakes"],
        [("375g", 0.375, "kg"), ("500g", 0.5, "kg"), ("750g", 0.75, "kg")],
        (6.0, 16.0),
        ["Morning Sun", "Harvest Gold", "FreshMart"],
    ),
    (
        "Pantry > Eggs",
        "Eggs",
        ["Free Range", "Cage Free", "Barn Laid", "Organic Free Range"],
        [("dozen", 12, "each"), ("6 pack", 6, "each"), ("700g", 0.7, "kg")],
        (0.45, 0.95),
        ["Sunny Farm", "Hillside Hens", "FreshMart"],
    ),
    (
        "Drinks > Soft Drinks",
        "Cola",
        ["Classic", "No Sugar", "Vanilla"],
        [("6 x 375mL", 2.25, "l"), ("1.25L", 1.25, "l"), ("24 x 375mL", 9, "l"), ("2L", 2, "l")],
        (1.2, 3.4),
        ["Fizzco", "Sparkle", "FreshMart"],
    ),
    (
        "Drinks > Juice",
        "Orange Juice",
        ["No Added Sugar", "Pulp Free", "With Pulp"],
        [("2L", 2, "l"), ("1L", 1, "l"), ("300mL", 0.3, "l")],
        (2.0, 5.5),
        ["Sunny Grove", "Paddock Fresh", "FreshMart"],
    ),
    (
        "Household > Cleaning",
        "Dishwashing Liquid",
        ["Lemon", "Original", "Sensitive"],
        [("500mL", 0.5, "l"), ("1L", 1, "l")],
        (4.0, 9.0),
        ["Sparkle Home", "CleanCo", "FreshMart"],
    ),
    (
        "Household > Paper",
        "Toilet Paper",
        ["3 Ply", "2 Ply", "Recycled"],
        [("12 pack", 12, "each"), ("24 pack", 24, "each"), ("6 pack", 6, "each")],
        (0.4, 1.1),
        ["SoftTouch", "CleanCo", "FreshMart"],
    ),
    (
        "Meat & Seafood > Beef",
        "Beef Mince",
        ["Regular", "Lean", "Extra Lean"],
        [("500g", 0.5, "kg"), ("1kg", 1, "kg")],
        (10.0, 22.0),
        ["Butcher's Pick", "FreshMart"],
    ),
]

_SUBURBS = [
    ("Northgate", "NSW", "2000"),
    ("Riverside", "VIC", "3000"),
    ("Hillcrest", "QLD", "4000"),
    ("Bayview", "WA", "6000"),
    ("Eastwood", "SA", "5000"),
    ("Lakeside", "NSW", "2150"),
    ("Westfield Park", "VIC", "3150"),
    ("Greenvale", "QLD", "4101"),
    ("Harbourside", "TAS", "7000"),
    ("Mountview", "ACT", "2600"),
    ("Southbank", "VIC", "3006"),
    ("Parkland", "NSW", "2250"),
]
_STREETS = ["High St", "Main Rd", "Station St", "Church St", "Victoria Rd", "George St", "King St"]
_STATE_CENTRES = {
    "NSW": (-33.87, 151.21),
    "VIC": (-37.81, 144.96),
    "QLD": (-27.47, 153.03),
    "WA": (-31.95, 115.86),
    "SA": (-34.93, 138.60),
    "TAS": (-42.88, 147.33),
    "ACT": (-35.28, 149.13),
}
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    address: str
    postcode: str
    latitude: float
    longitude: float
    region: str
    price_multiplier: float
    retailer: str = "freshmart"


@dataclass(frozen=True)
class Product:
    """Identity of a product: depends on (seed, index) only (its pack size also on the date)."""

    index: int
    stockcode: str
    name: str
    brand: str
    category_path: str
    package_size_text: str
    package_quantity: float
    package_unit: str  # kg | l | each
    base_price: Decimal
    barcode: str | None
    adjective: str = ""
    noun: str = ""
    true_gtin: str | None = None  # the product's real GTIN-13 (``barcode`` may carry a typo)
    shrunk: bool = False  # the pack shrank at the same price (shrinkflation) by this date


@dataclass(frozen=True)
class StorePrice:
    """What one store charges for one product on one date."""

    price: (
        Decimal | None
    )  # None: the retailer's API returned no price (a record the scrapers must quarantine)
    was_price: Decimal | None
    in_stock: bool
    promotion: str = "none"  # none | real | fake (was-price above the 30-day high)


@dataclass(frozen=True)
class RetailerProfile:
    """How one fictional retailer differs: ids, names, branches, price level, range carried."""

    name: str
    display_name: str
    path_prefix: str  # where the one demo market process serves it ("" = site root)
    carries: float  # share of the catalogue it stocks
    price_level: float
    gtin_dropped: float  # extra share of products it lists without a barcode
    missing_price_rate: float  # records served without a price (a real API quirk)


def _demo_profiles() -> dict[str, RetailerProfile]:
    """The market's fictional chains are the registry entries with a ``demo`` section, in order."""
    from scrapers.registry import load_registry

    entries = [e for e in load_registry().values() if e.demo is not None]
    entries.sort(key=lambda e: (e.demo.order, e.name))  # type: ignore[union-attr]
    return {
        e.name: RetailerProfile(
            e.name,
            e.display_name,
            e.demo.prefix,
            e.demo.carries,
            e.demo.price_level,  # type: ignore[union-attr]
            e.demo.gtin_dropped,
            e.demo.missing_price_rate,  # type: ignore[union-attr]
        )  # fmt: skip
        for e in entries
    }


RETAILERS: dict[str, RetailerProfile] = _demo_profiles()

SHRINK_EPOCH = dt.date(2026, 1, 1)  # shrink days fall within the year after this
SHRINK_SHARE = 0.06  # share of products whose pack shrinks once
SHRINK_DAYS = 365


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_CENTS, rounding=ROUND_HALF_UP)


_MULTI = re.compile(r"^(\d+) x (\d+)(g|mL)$")
_MEASURE = re.compile(r"^(\d+(?:\.\d+)?)(kg|g|L|mL)$")
_PACK = re.compile(r"^(\d+) pack$")


def shrink_size(text: str, quantity: float) -> tuple[str, float] | None:
    """The same pack about 10% smaller, as shrinkflation does it ("500g" -> "450g"); None if loose."""
    if match := _MULTI.match(text):
        count, inner, unit = int(match.group(1)), int(match.group(2)), match.group(3)
        smaller = max(5, round(inner * 0.9 / 5) * 5)
        return f"{count} x {smaller}{unit}", quantity * smaller / inner
    if match := _MEASURE.match(text):
        value, unit = float(match.group(1)), match.group(2)
        base = value * 1000 if unit in ("kg", "L") else value
        smaller = max(5, round(base * 0.9 / 5) * 5)
        return f"{smaller}{'g' if unit in ('kg', 'g') else 'mL'}", smaller / 1000
    if match := _PACK.match(text):
        count = int(match.group(1))
        return f"{count - max(1, count // 6)} pack", float(count - max(1, count // 6))
    if text == "dozen":
        return "10 pack", 10.0
    return None


def _fast_random(key: str) -> random.Random:
    # Seeding with an int is ~5x cheaper than with a str (which hashes with SHA-512) and, like it,
    # independent of PYTHONHASHSEED: crc32 of the key picks the stream.
    return random.Random(zlib.crc32(key.encode()) * 7919 + len(key))


class Catalogue:
    """A deterministic, lazily generated supermarket catalogue shared by every demo retailer."""

    def __init__(
        self,
        seed: int = 42,
        products: int = 200,
        stores: int = 3,
        date: dt.date | None = None,
        shrink_share: float = SHRINK_SHARE,
        shrink_from: dt.date = SHRINK_EPOCH,
        shrink_days: int = SHRINK_DAYS,
    ):
        if products < 1 or stores < 1:
            raise ValueError("a catalogue needs at least one product and one store")
        if not 0 <= shrink_share <= 1 or shrink_days < 1:
            raise ValueError("shrink_share must be within 0..1 and shrink_days at least 1")
        self.seed = seed
        # Which packs shrink, and on which day: the defaults are the market's usual year; a test
        # that measures the shrinkflation flag over a week concentrates the shrink days in it.
        self.shrink_share = shrink_share
        self.shrink_from = shrink_from
        self.shrink_days = shrink_days
        self.product_count = products
        self.store_count = stores
        self.date = date or dt.date.today()
        self._retailer_stores = {r: [self._make_store(i, r) for i in range(stores)] for r in RETAILERS}
        self._stores_by_id = {
            r: {s.store_id: s for s in stores_} for r, stores_ in self._retailer_stores.items()
        }
        self._carried: dict[str, list[int]] = {}
        # Products are rendered once per branch: cache them (per date, as pack sizes can shrink).
        self._product_cache: dict[tuple[int, dt.date], Product] = {}

    def product(self, index: int, date: dt.date | None = None) -> Product:
        key = (index, date or self.date)
        product = self._product_cache.get(key)
        if product is None:
            if len(self._product_cache) >= 200_000:
                self._product_cache.clear()
            product = self._product_cache[key] = self._make_product(index, key[1])
        return product

    # stores -----------------------------------------------------------------
    def stores(self, retailer: str = "freshmart") -> list[Store]:
        return list(self._retailer_stores[retailer])

    def store(self, store_id: str, retailer: str = "freshmart") -> Store | None:
        return self._stores_by_id[retailer].get(store_id)

    def _make_store(self, i: int, retailer: str = "freshmart") -> Store:
        profile = RETAILERS[retailer]
        salt = "" if retailer == "freshmart" else f"{retailer}:"
        rng = random.Random(f"store:{salt}{self.seed}:{i}")
        offset = list(RETAILERS).index(retailer) * 5  # each chain opens in other suburbs first
        suburb, state, postcode = _SUBURBS[(i + offset) % len(_SUBURBS)]
        if i >= len(_SUBURBS):
            suburb = f"{suburb} {i // len(_SUBURBS) + 1}"
        lat0, lon0 = _STATE_CENTRES[state]
        store_id = {
            "freshmart": str(1001 + i),
            "nextmart": f"NM{101 + i}",
            "biomarkt": f"BM-{i + 1:02d}",
        }.get(retailer, f"cs-{i + 1:03d}")
        return Store(
            store_id=store_id,
            name=f"{profile.display_name} {suburb}",
            address=f"{rng.randint(1, 400)} {rng.choice(_STREETS)}, {suburb} {state}",
            postcode=postcode,
            latitude=round(lat0 + rng.uniform(-0.25, 0.25), 6),
            longitude=round(lon0 + rng.uniform(-0.25, 0.25), 6),
            region=state,
            price_multiplier=round(rng.uniform(0.94, 1.08), 4),
            retailer=retailer,
        )

    # products ---------------------------------------------------------------
    def _make_product(self, index: int, date: dt.date) -> Product:
        if not 0 <= index < self.product_count:
            raise IndexError(index)
        rng = random.Random(f"product:{self.seed}:{index}")
        category, noun, adjectives, sizes, (low, high), brands = _CATEGORIES[index % len(_CATEGORIES)]
        adjective = rng.choice(adjectives)
        brand = rng.choice(brands)
        size_text, quantity, unit = rng.choice(sizes)
        per_unit = rng.uniform(low, high)
        base_price = _money(max(0.5, per_unit * quantity))
        roll = rng.random()
        true_gtin = None
        if roll < 0.08:
            barcode = None  # loose produce and in-store bakery lines carry no barcode
        else:
            body = "93" + f"{rng.randrange(10**10):010d}"
            check = gtin_check_digit(body)
            true_gtin = body + check
            if roll < 0.10:  # a few source records carry a wrong check digit
                check = str((int(check) + 1) % 10)
            barcode = body + check
        # Shrinkflation: a share of packs shrink from a product-specific day on, at the same price.
        shrink = random.Random(f"shrink:{self.seed}:{index}")
        shrunk = False
        if shrink.random() < self.shrink_share:
            shrink_day = self.shrink_from + dt.timedelta(days=shrink.randrange(self.shrink_days))
            smaller = shrink_size(size_text, quantity)
            if smaller is not None and date >= shrink_day:
                size_text, quantity = smaller
                shrunk = True
        return Product(
            index=index,
            stockcode=str(100000 + index * 7 + self.seed % 7),
            name=f"{brand} {adjective} {noun} {size_text}".replace(" per kg", "").replace(" each", ""),
            brand=brand,
            category_path=category,
            package_size_text=size_text,
            package_quantity=quantity,
            package_unit=unit,
            base_price=base_price,
            barcode=barcode,
            adjective=adjective,
            noun=noun,
            true_gtin=true_gtin,
            shrunk=shrunk,
        )

    def products(self, start: int, stop: int, date: dt.date | None = None) -> list[Product]:
        return [self.product(i, date) for i in range(max(0, start), min(stop, self.product_count))]

    # retailers --------------------------------------------------------------
    def carried(self, retailer: str) -> list[int]:
        """Indices of the products ``retailer`` stocks, in its listing order (computed once)."""
        if retailer not in self._carried:
            share = RETAILERS[retailer].carries
            self._carried[retailer] = [
                i
                for i in range(self.product_count)
                if share >= 1 or _fast_random(f"carry:{self.seed}:{retailer}:{i}").random() < share
            ]
        return self._carried[retailer]

    def retailer_product_id(self, retailer: str, product: Product) -> str:
        if retailer == "freshmart":
            return product.stockcode
        if retailer == "nextmart":
            return f"nm-{zlib.crc32(f'{self.seed}:{product.index}'.encode()):08x}{product.index % 97:02d}"
        if retailer == "biomarkt":
            return f"BM-{product.index * 7 + 3:06d}"
        return f"CS{product.index * 13 + 5:07d}"

    def retailer_gtin(self, retailer: str, product: Product) -> str | None:
        """The barcode the retailer publishes: the real GTIN-13, or none for a share of lines."""
        if retailer == "freshmart":
            return product.barcode
        if product.true_gtin is None:
            return None
        if (
            _fast_random(f"nogtin:{self.seed}:{retailer}:{product.index}").random()
            < RETAILERS[retailer].gtin_dropped
        ):
            return None
        return product.true_gtin

    def price(self, store: Store, product: Product, date: dt.date | None = None) -> StorePrice:
        date = date or self.date
        retailer = store.retailer
        profile = RETAILERS[retailer]
        rng = _fast_random(
            f"price:{retailer}:{self.seed}:{date.isoformat()}:{store.store_id}:{product.index}"
        )
        level = store.price_multiplier * profile.price_level
        regular = _money(float(product.base_price) * level * rng.uniform(0.97, 1.03))
        in_stock = rng.random() >= 0.03
        # A few records come back without a price, as real catalogue APIs sometimes do.
        if rng.random() < profile.missing_price_rate:
            return StorePrice(price=None, was_price=None, in_stock=in_stock)
        roll = rng.random()
        if roll < 0.12:
            discount = rng.choice([0.1, 0.2, 0.25, 0.3, 0.5])
            price = _money(float(regular) * (1 - discount))
            return StorePrice(price=price, was_price=regular, in_stock=in_stock, promotion="real")
        if roll < 0.14:
            # A fake promotion: "was" far above any regular price of the last 30 days (they vary
            # by at most +-3% a day around a fixed level), "now" the regular price.
            was = _money(float(product.base_price) * level * 1.03 * 1.25)
            return StorePrice(price=regular, was_price=was, in_stock=in_stock, promotion="fake")
        return StorePrice(price=regular, was_price=None, in_stock=in_stock)


def canonical_product_id(index: int) -> str:
    return f"P{index:06d}"


def truth_records(catalogue: Catalogue, retailer: str | None = None) -> list[dict]:
    """Ground truth for matching: every retailer product and the canonical product it is."""
    rows = []
    for name in [retailer] if retailer else list(RETAILERS):
        if name not in RETAILERS:
            raise KeyError(name)
        for index in catalogue.carried(name):
            product = catalogue.product(index)
            rows.append(
                {
                    "retailer": name,
                    "retailer_product_id": catalogue.retailer_product_id(name, product),
                    "canonical_product_id": canonical_product_id(index),
                    "gtin": product.true_gtin,
                    "gtin_published": catalogue.retailer_gtin(name, product) is not None,
                    "brand": product.brand,
                    "package_size_text": product.package_size_text,
                }
            )
    return rows


def truth_events(catalogue: Catalogue, date: dt.date, retailer: str | None = None) -> dict:
    """What the market did on ``date``, per retailer product (and branch): the flags' ground truth.

    - ``shrinkflation``: the pack is smaller than the day before, at the same regular price.
    - ``fake_promotions``: a was-price far above any regular price of the prior 30 days.
    - ``stock_outs``: the branch listed the product as out of stock.
    Records the market served without a price are left out (the scrapers quarantine them, so no
    flag can see them); ``unpriced`` counts them.
    """
    shrinkflation, fake_promotions, stock_outs, unpriced = [], [], [], 0
    yesterday = date - dt.timedelta(days=1)
    for name in [retailer] if retailer else list(RETAILERS):
        if name not in RETAILERS:
            raise KeyError(name)
        for index in catalogue.carried(name):
            product = catalogue.product(index, date)
            retailer_product_id = catalogue.retailer_product_id(name, product)
            before = catalogue.product(index, yesterday)
            if product.package_quantity < before.package_quantity:
                shrinkflation.append(
                    {
                        "retailer": name,
                        "retailer_product_id": retailer_product_id,
                        "old_size": before.package_size_text,
                        "new_size": product.package_size_text,
                        "old_quantity": before.package_quantity,
                        "new_quantity": product.package_quantity,
                        "package_unit": product.package_unit,
                    }
                )
            for store in catalogue.stores(name):
                offer = catalogue.price(store, product, date)
                if offer.price is None:
                    unpriced += 1
                    continue
                key = {
                    "retailer": name,
                    "retailer_product_id": retailer_product_id,
                    "store_id": store.store_id,
                }
                if offer.promotion == "fake":
                    fake_promotions.append(
                        {**key, "price": str(offer.price), "was_price": str(offer.was_price)}
                    )
                if not offer.in_stock:
                    stock_outs.append(key)
    return {
        "date": date.isoformat(),
        "shrinkflation": shrinkflation,
        "fake_promotions": fake_promotions,
        "stock_outs": stock_outs,
        "unpriced": unpriced,
    }


__all__ = [
    "RETAILERS", "Catalogue", "Product", "RetailerProfile", "Store", "StorePrice",
    "canonical_product_id", "gtin_check_digit", "replace", "shrink_size", "truth_events", "truth_records",
]  # fmt: skip
