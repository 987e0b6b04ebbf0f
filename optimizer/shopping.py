"""The basket front door, DB-free: a shopper's request + a catalog snapshot -> a priced split.

Shared by ``smartcart optimize --basket``, ``POST /api/optimize`` and the Dagster job and batch
asset. ``optimizer.catalog`` loads the snapshot from the catalog mart; everything here is pure.

Costs: an item's cost at a store is the cheapest whole packs covering its quantity
(``optimizer.pricing``). A store's visit cost is ``store_visit_cost`` plus, when the shopper gives
a postcode, ``cost_per_km`` x the round trip (2 x straight-line distance from the postcode's
centroid, ``optimizer.geo``). A substitute replaces its item in the same quantity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimizer.basket import best_single_store
from optimizer.data import SplitProblem
from optimizer.geo import PostcodeCentroids, haversine_km
from optimizer.pricing import PackOffer, cheapest_packs
from optimizer.solution import SolverConfig, SplitSolution

SUBSTITUTE_SEP = " ~ "  # option name for "need bought as substitute": "<need> ~ <substitute>"


class BasketError(ValueError):
    """The basket cannot be priced as asked (unknown products, postcode, no store...)."""

    def __init__(self, message: str, *, code: str = "invalid_basket", details: Any = None):
        super().__init__(message)
        self.code = code
        self.details = details


# Identifiers reach SQL parameters: no NUL or other control characters (PostgreSQL refuses NUL).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
ProductKey = Annotated[
    str, Field(min_length=1, max_length=128, pattern=PRINTABLE, description="catalog.dim_product.product_key")
]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)]


class BasketItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_key: ProductKey
    quantity: int = Field(default=1, ge=1, le=1000, description="units wanted")
    substitutes: list[ProductKey] = Field(
        default_factory=list, max_length=50, description="product keys accepted instead, same quantity"
    )


class BasketRequest(BaseModel):
    """A shopping list to split. Field names are the basket JSON's (CLI file, HTTP body, run config).

    Where: with a postcode, distances are measured from it. Without one, a ``region`` (e.g. "VIC")
    must be given unless the chosen stores or retailers are all in one region: a split never mixes
    stores of distant states that no one can visit in one trip.
    """

    # Non-finite numbers (JSON NaN/Infinity) are refused as field errors, not carried into the model.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    items: list[BasketItem] = Field(min_length=1, max_length=500)
    postcode: str | None = Field(
        default=None, min_length=2, max_length=12, description="shopper's postcode (for distances)"
    )
    retailers: list[Name] | None = Field(
        default=None, max_length=50, description="only stores of these retailers"
    )
    stores: list[Name] | None = Field(
        default=None, max_length=200, description="only these stores (store_key from /api/stores)"
    )
    region: Name | None = Field(
        default=None, description="only stores of this region (e.g. VIC); needed without a postcode"
    )
    radius_km: float | None = Field(default=None, gt=0, le=1000, description="only stores this close")
    max_stores: int | None = Field(default=3, ge=1, le=100, description="visit at most K stores")
    cost_per_km: float = Field(default=0.3, ge=0, le=100, description="travel cost per km driven")
    store_visit_cost: float = Field(default=0.0, ge=0, le=1000, description="fixed cost of each visit")
    budget: float | None = Field(default=None, gt=0, description="fail if the cheapest split costs more")

    @field_validator("postcode")
    @classmethod
    def _postcode_chars(cls, value: str | None) -> str | None:
        if value is not None and not value.replace(" ", "").isalnum():
            raise ValueError("postcode must be letters and digits")
        return value

    @model_validator(mode="after")
    def _radius_needs_postcode(self) -> BasketRequest:
        if self.radius_km is not None and self.postcode is None:
            raise ValueError("radius_km needs a postcode to measure from")
        return self

    def product_keys(self) -> list[str]:
        """Every product the request names (items and substitutes), first-seen order."""
        keys = [item.product_key for item in self.items]
        keys += [alt for item in self.items for alt in item.substitutes]
        return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class StoreInfo:
    store_key: str
    retailer: str
    store_id: str
    store_name: str
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    region: str | None = None

    @property
    def label(self) -> str:
        return f"{self.store_name} ({self.retailer} {self.store_id})"


@dataclass(frozen=True)
class ShelfOffer:
    store_key: str
    product_key: str
    price: float
    pack_size: int = 1


Shelf = dict[str, dict[str, list[PackOffer]]]  # product -> store -> pack offers


def shelf_of(offers: Iterable[ShelfOffer]) -> Shelf:
    """product -> store -> pack offers; an offer with a broken pack size cannot be priced: not on the shelf."""
    shelf: Shelf = {}
    for offer in offers:
        if int(offer.pack_size) < 1:
            continue
        shelf.setdefault(offer.product_key, {}).setdefault(offer.store_key, []).append(
            PackOffer(price=float(offer.price), pack_size=int(offer.pack_size))
        )
    return shelf


@dataclass
class CatalogSnapshot:
    """Current prices for some products, every known store, and product names.

    ``centroids`` and ``shelf`` are derived from the stores and offers when not given; a cache that
    keeps them per prices version (``optimizer.catalog.SnapshotCache``) passes them in, so a request
    does not rebuild them.
    """

    stores: list[StoreInfo]
    offers: list[ShelfOffer]
    product_names: dict[str, str]
    prices_version: str = ""
    price_date: str | None = None
    centroids: PostcodeCentroids = None  # type: ignore[assignment]  # filled in __post_init__
    prebuilt_shelf: Shelf | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.centroids is None:
            self.centroids = PostcodeCentroids.from_stores(
                (s.postcode, s.latitude, s.longitude) for s in self.stores
            )

    def shelf(self) -> Shelf:
        """product -> store -> pack offers, built once per snapshot (the batch reuses it)."""
        if self.prebuilt_shelf is None:
            self.prebuilt_shelf = shelf_of(self.offers)
        return self.prebuilt_shelf


@dataclass
class PricedBasket:
    """The split problem for a basket plus what result shaping needs to name things."""

    problem: SplitProblem
    stores: dict[str, StoreInfo]
    distance_km: dict[str, float | None]
    packs: dict[tuple[str, str], list[PackOffer]]  # (option name, store_key) -> offers on the shelf
    option_product: dict[str, str]
    quantities: dict[str, int]


def merge_items(request: BasketRequest) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Quantities and substitutes per product key; a key listed twice has its quantities added."""
    quantities: dict[str, int] = {}
    substitutes: dict[str, list[str]] = {}
    for item in request.items:
        quantities[item.product_key] = quantities.get(item.product_key, 0) + item.quantity
        alts = substitutes.setdefault(item.product_key, [])
        alts.extend(a for a in item.substitutes if a != item.product_key and a not in alts)
    return quantities, substitutes


def price_basket(request: BasketRequest, snapshot: CatalogSnapshot) -> PricedBasket:
    """Filter stores (retailers, radius), price every (item option, store), build the problem."""
    unknown = [key for key in request.product_keys() if key not in snapshot.product_names]
    if unknown:
        raise BasketError(
            f"unknown product id(s): {', '.join(unknown[:10])}"
            + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            + " (use catalog.dim_product.product_key, e.g. from /api/products/search)",
            code="unknown_products",
            details=unknown,
        )

    stores = list(snapshot.stores)
    if request.retailers:
        wanted = {r.lower() for r in request.retailers}
        known = {s.retailer.lower() for s in snapshot.stores}
        missing = sorted(wanted - known)
        if missing:
            raise BasketError(
                f"unknown retailer(s): {', '.join(missing)}; known: {', '.join(sorted(known)) or 'none'}",
                code="unknown_retailers",
                details=missing,
            )
        stores = [s for s in stores if s.retailer.lower() in wanted]

    if request.stores:
        known_stores = {s.store_key for s in stores}
        missing = [key for key in request.stores if key not in known_stores]
        if missing:
            raise BasketError(
                f"unknown store(s){' of ' + ', '.join(request.retailers) if request.retailers else ''}: "
                f"{', '.join(missing[:10])} (use store_key from /api/stores)",
                code="unknown_stores",
                details=missing[:50],
            )
        chosen = set(request.stores)
        stores = [s for s in stores if s.store_key in chosen]
    if request.region is not None:
        regions = sorted({s.region for s in stores if s.region})
        stores = [s for s in stores if (s.region or "").lower() == request.region.lower()]
        if not stores:
            raise BasketError(
                f"no store in region {request.region!r}; regions with stores: {', '.join(regions) or 'none'}",
                code="unknown_region",
            )
    elif request.postcode is None:
        regions = sorted({s.region or "unknown" for s in stores})
        if len(regions) > 1:
            raise BasketError(
                "give a postcode (or a region: " + ", ".join(regions) + ") so the split does not mix "
                "stores of different regions",
                code="region_required",
                details=regions,
            )

    distance: dict[str, float | None] = {s.store_key: None for s in stores}
    if request.postcode is not None:
        origin = snapshot.centroids.locate(request.postcode)
        if origin is None:
            raise BasketError(
                f"postcode {request.postcode!r} is not known: no catalog store shares it or its first "
                "two characters",
                code="unknown_postcode",
            )
        for s in stores:
            if s.latitude is not None and s.longitude is not None:
                distance[s.store_key] = haversine_km(origin[0], origin[1], s.latitude, s.longitude)
        if request.radius_km is not None:
            stores = [
                s
                for s in stores
                if distance[s.store_key] is not None and distance[s.store_key] <= request.radius_km
            ]
    if not stores:
        where = f" within {request.radius_km:g} km of {request.postcode}" if request.radius_km else ""
        which = f" of {', '.join(request.retailers)}" if request.retailers else ""
        raise BasketError(f"no store{which}{where}", code="no_store")

    quantities, substitutes = merge_items(request)
    option_product: dict[str, str] = {}
    needs_options: dict[str, list[str]] = {}
    for need in quantities:
        options = [need] + [f"{need}{SUBSTITUTE_SEP}{alt}" for alt in substitutes[need]]
        needs_options[need] = options[1:]
        option_product[need] = need
        for alt, name in zip(substitutes[need], options[1:], strict=True):
            option_product[name] = alt

    shelf = snapshot.shelf()
    store_position = {s.store_key: k for k, s in enumerate(stores)}
    need_of = {name: (name.split(SUBSTITUTE_SEP)[0]) for name in option_product}
    items = list(option_product)
    cost: list[list[float | None]] = []
    packs: dict[tuple[str, str], Any] = {}
    for name in items:
        row: list[float | None] = [None] * len(stores)
        quantity = quantities[need_of[name]]
        for store_key, offers in shelf.get(option_product[name], {}).items():
            k = store_position.get(store_key)
            if k is not None:
                packs[(name, store_key)] = offers  # pack details are worked out for chosen lines only
                if len(offers) == 1:
                    offer = offers[0]
                    row[k] = round(-(-quantity // offer.pack_size) * offer.price, 6)
                else:
                    row[k] = round(cheapest_packs(quantity, offers).cost, 6)
        cost.append(row)
    store_cost = [
        request.store_visit_cost
        + (request.cost_per_km * 2 * distance[s.store_key] if distance[s.store_key] is not None else 0.0)
        for s in stores
    ]
    problem = SplitProblem(
        items=items,
        stores=[s.store_key for s in stores],
        cost=cost,
        store_cost=[round(c, 6) for c in store_cost],
        max_stores=request.max_stores,
        substitutes={need: alts for need, alts in needs_options.items()}
        if any(needs_options.values())
        else None,
        budget=request.budget,
    )
    return PricedBasket(
        problem=problem,
        stores={s.store_key: s for s in stores},
        distance_km={s.store_key: distance[s.store_key] for s in stores},
        packs=packs,
        option_product=option_product,
        quantities=quantities,
    )


def _money(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def shape_result(priced: PricedBasket, solution: SplitSolution, snapshot: CatalogSnapshot) -> dict[str, Any]:
    """Per-store lists with subtotals, travel, the total, the best single store and the saving."""
    problem, names = priced.problem, snapshot.product_names
    store_index = {key: s for s, key in enumerate(problem.stores)}
    result: dict[str, Any] = {
        "status": solution.status,
        "price_date": snapshot.price_date,
        "stores_considered": len(problem.stores),
    }
    if solution.message:
        message = solution.message
        for option, product in priced.option_product.items():
            if option != product and repr(option) in message:
                message = message.replace(repr(option), repr(product))
        result["message"] = message
    if solution.infeasible_item:
        product = priced.option_product.get(solution.infeasible_item, solution.infeasible_item)
        result["infeasible_item"] = {"product_key": product, "product_name": names.get(product)}
    single = best_single_store(problem)
    if single is not None:
        info = priced.stores[single[0]]
        result["best_single_store"] = {
            "store_key": info.store_key,
            "store": info.label,
            "total": _money(single[1]),
        }
    else:
        result["best_single_store"] = None
    if solution.objective is None:
        return result

    rows: dict[str, dict[str, Any]] = {}
    for store_key in sorted(set(solution.assignment.values()), key=store_index.__getitem__):
        info = priced.stores[store_key]
        distance = priced.distance_km[store_key]
        rows[store_key] = {
            "store_key": store_key,
            "store": info.label,
            "retailer": info.retailer,
            "postcode": info.postcode,
            "distance_km": None if distance is None else round(distance, 2),
            "items": [],
            "subtotal": 0.0,
            "travel_cost": _money(problem.store_cost[store_index[store_key]]),
        }
    for need, store_key in solution.assignment.items():
        option = solution.bought.get(need, need)
        product = priced.option_product[option]
        choice = cheapest_packs(priced.quantities[need], priced.packs[(option, store_key)])
        line = {
            "product_key": product,
            "product_name": names.get(product),
            "quantity": priced.quantities[need],
            "packs": [
                {"pack_size": size, "count": count, "pack_price": price}
                for size, count, price in choice.packs
            ],
            "cost": _money(choice.cost),
        }
        if product != need:
            line["substitute_for"] = need
            line["substitute_for_name"] = names.get(need)
        rows[store_key]["items"].append(line)
        rows[store_key]["subtotal"] += choice.cost
    for row in rows.values():
        row["subtotal"] = _money(row["subtotal"])
        row["total"] = _money(row["subtotal"] + row["travel_cost"])
    items_total = sum(row["subtotal"] for row in rows.values())
    travel_total = sum(row["travel_cost"] for row in rows.values())
    total = float(solution.objective)
    result.update(
        stores=list(rows.values()),
        items_total=_money(items_total),
        travel_total=_money(travel_total),
        total=_money(total),
        saving=_money(single[1] - total) if single is not None else None,
    )
    return result


def optimize_basket(
    request: BasketRequest,
    snapshot: CatalogSnapshot,
    config: SolverConfig | None = None,
    direct: bool = False,
) -> dict[str, Any]:
    """Price, solve (optimality asserted by status) and shape one basket (``direct``: see ``solve``)."""
    from optimizer.solve import solve  # the solver's libraries load on first use (optimizer.solution)

    priced = price_basket(request, snapshot)
    solution = solve(priced.problem, config=config, direct=direct)
    return shape_result(priced, solution, snapshot)


def format_result(result: dict[str, Any]) -> str:
    """Human-readable lines for the CLI."""
    lines: list[str] = []
    if result["status"] != "optimal":
        lines.append(f"status: {result['status']}: {result.get('message', '')}".rstrip(": "))
    for store in result.get("stores", []):
        where = f", {store['distance_km']:.1f} km" if store.get("distance_km") is not None else ""
        lines.append(f"{store['store']}{where}")
        for line in store["items"]:
            packs = " + ".join(
                f"{p['count']} x {p['pack_size']}-pack @ {p['pack_price']:.2f}"
                if p["pack_size"] > 1
                else f"{p['count']} @ {p['pack_price']:.2f}"
                for p in line["packs"]
            )
            sub = (
                f" (instead of {line.get('substitute_for_name') or line['substitute_for']})"
                if "substitute_for" in line
                else ""
            )
            lines.append(
                f"  {line['product_name'] or line['product_key']}{sub}: {packs} = {line['cost']:.2f}"
            )
        lines.append(f"  subtotal {store['subtotal']:.2f}, travel {store['travel_cost']:.2f}")
    if result.get("total") is not None:
        lines.append(
            f"total {result['total']:.2f} (items {result['items_total']:.2f} + travel {result['travel_total']:.2f})"
        )
    single = result.get("best_single_store")
    if single:
        lines.append(f"best single store: {single['store']} at {single['total']:.2f}")
        if result.get("saving") is not None:
            lines.append(f"saving: {result['saving']:.2f}")
    elif result.get("total") is not None:
        lines.append("best single store: none stocks the whole list")
    return "\n".join(lines)


def snapshot_from_rows(
    stores: Iterable[tuple], offers: Iterable[tuple], names: dict[str, str], **kwargs: Any
) -> CatalogSnapshot:
    """Convenience for tests and the batch: stores as StoreInfo field tuples, offers as ShelfOffer tuples."""
    return CatalogSnapshot(
        stores=[StoreInfo(*row) for row in stores],
        offers=[ShelfOffer(*row) for row in offers],
        product_names=dict(names),
        **kwargs,
    )
