"""The demo market's catalogue model: stores, products and prices, independent of any website format.

Everything is a pure function of ``(seed, index)`` for identity and ``(seed, date, store, product)``
for prices, computed lazily: a page of 100 products costs 100 small computations whatever the
catalogue size, so 50,000 products x 20 stores needs no memory beyond one page. Renderers
(``freshmart`` JSON API today; Next.js and sitemap/JSON-LD shops later) only format what this
module returns, so the same catalogue can back several fictional retailers.

Determinism: ``random.Random`` seeded with a ``str`` hashes it with SHA-512, which does not depend on
``PYTHONHASHSEED``; same inputs give the same values in every process.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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


@dataclass(frozen=True)
class Product:
    """Identity of a product: depends on (seed, index) only, stable across dates and stores."""

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


@dataclass(frozen=True)
class StorePrice:
    """What one store charges for one product on one date."""

    price: (
        Decimal | None
    )  # None: the retailer's API returned no price (a record the scrapers must quarantine)
    was_price: Decimal | None
    in_stock: bool


def gtin_check_digit(body: str) -> str:
    """GS1 check digit for the digits before it (weights 3,1,3,... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_CENTS, rounding=ROUND_HALF_UP)


class Catalogue:
    """A deterministic, lazily generated supermarket catalogue."""

    def __init__(self, seed: int = 42, products: int = 200, stores: int = 3, date: dt.date | None = None):
        if products < 1 or stores < 1:
            raise ValueError("a catalogue needs at least one product and one store")
        self.seed = seed
        self.product_count = products
        self.store_count = stores
        self.date = date or dt.date.today()
        self._stores = [self._make_store(i) for i in range(stores)]  # small: at most a few hundred
        self._stores_by_id = {s.store_id: s for s in self._stores}

    # stores -----------------------------------------------------------------
    def stores(self) -> list[Store]:
        return list(self._stores)

    def store(self, store_id: str) -> Store | None:
        return self._stores_by_id.get(store_id)

    def _make_store(self, i: int) -> Store:
        rng = random.Random(f"store:{self.seed}:{i}")
        suburb, state, postcode = _SUBURBS[i % len(_SUBURBS)]
        if i >= len(_SUBURBS):
            suburb = f"{suburb} {i // len(_SUBURBS) + 1}"
        lat0, lon0 = _STATE_CENTRES[state]
        return Store(
            store_id=str(1001 + i),
            name=f"FreshMart {suburb}",
            address=f"{rng.randint(1, 400)} {rng.choice(_STREETS)}, {suburb} {state}",
            postcode=postcode,
            latitude=round(lat0 + rng.uniform(-0.25, 0.25), 6),
            longitude=round(lon0 + rng.uniform(-0.25, 0.25), 6),
            region=state,
            price_multiplier=round(rng.uniform(0.94, 1.08), 4),
        )

    # products ---------------------------------------------------------------
    def product(self, index: int) -> Product:
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
        if roll < 0.08:
            barcode = None  # loose produce and in-store bakery lines carry no barcode
        else:
            body = "93" + f"{rng.randrange(10**10):010d}"
            check = gtin_check_digit(body)
            if roll < 0.10:  # a few source records carry a wrong check digit
                check = str((int(check) + 1) % 10)
            barcode = body + check
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
        )

    def products(self, start: int, stop: int) -> list[Product]:
        return [self.product(i) for i in range(max(0, start), min(stop, self.product_count))]

    def price(self, store: Store, product: Product) -> StorePrice:
        rng = random.Random(f"price:{self.seed}:{self.date.isoformat()}:{store.store_id}:{product.index}")
        regular = _money(float(product.base_price) * store.price_multiplier * rng.uniform(0.97, 1.03))
        in_stock = rng.random() >= 0.03
        # About 1 in 150 records comes back without a price, as real catalogue APIs sometimes do.
        if rng.random() < 1 / 150:
            return StorePrice(price=None, was_price=None, in_stock=in_stock)
        if rng.random() < 0.12:
            discount = rng.choice([0.1, 0.2, 0.25, 0.3, 0.5])
            price = _money(float(regular) * (1 - discount))
            return StorePrice(price=price, was_price=regular, in_stock=in_stock)
        return StorePrice(price=regular, was_price=None, in_stock=in_stock)
