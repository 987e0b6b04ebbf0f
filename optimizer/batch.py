"""Batch splits, DB-free: saved shopping lists replayed from app events, standard baskets per
region, and a process pool that solves them.

Saved lists: events of smartcart_behavior.raw.app_events replayed in ``occurred_at`` order per
``list_id`` (list_created, item_added adds its quantity, item_removed drops the product,
substitution_chosen allows the chosen product as a substitute, optimizer_request sets K).
Standard baskets: per region, the standard basket seed (categories and amounts, when the catalog
project's seed is loaded), else the products stocked by the most stores of the region.

No pool of its own: the batch is split into shards of regions (``region_shard``), one Dagster
partition each, and Dagster's executor decides how many shards solve at once and where.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from optimizer.shopping import (
    BasketError,
    BasketItem,
    BasketRequest,
    CatalogSnapshot,
    ShelfOffer,
    optimize_basket,
)
from optimizer.solution import SolverConfig

STANDARD_BASKET_SIZES = {"small": 8, "weekly": 25}
# The standard basket seed asks for amounts (4 l of milk, 0.5 kg of cheese); products come in
# packages (package_quantity in the same unit). Both are counted in thousandths so that "whole
# packages covering the amount" is the integer pack arithmetic of optimizer.pricing.
AMOUNT_SCALE = 1000


class BulkBasketItem(BasketItem):
    """A batch line: amounts in thousandths of a unit, any number of substitutes."""

    quantity: int = Field(default=1, ge=1, le=100_000_000)
    substitutes: list[str] = Field(default_factory=list, max_length=5000)


class BulkBasketRequest(BasketRequest):
    """A basket built by the batch itself (not user input): wider limits than the public API's."""

    items: list[BulkBasketItem] = Field(min_length=1, max_length=5000)


@dataclass(frozen=True)
class StandardLine:
    """One line of the standard basket seed (dbt_project/seeds/standard_basket.csv)."""

    basket_line: str
    category_path: str
    quantity: float
    package_unit: str


def seed_basket(
    lines: list[StandardLine],
    packaged: dict[str, tuple[str, str, float]],
    offered: set[str],
    store_visit_cost: float,
    max_stores: int,
) -> tuple[BulkBasketRequest | None, list[str]]:
    """The seed's basket for one region: each line becomes its category's products sold in the
    line's unit (the first as the item, the others as its substitutes), amount in thousandths.
    ``packaged``: product -> (category_path, package_unit, package_quantity); ``offered``: products
    with a current price in the region. Returns (request or None, lines no product can fill)."""
    items, unfilled = [], []
    for line in lines:
        candidates = sorted(
            key
            for key, (category, unit, size) in packaged.items()
            if category == line.category_path and unit == line.package_unit and size > 0 and key in offered
        )
        if not candidates:
            unfilled.append(line.basket_line)
            continue
        items.append(
            {
                "product_key": candidates[0],
                "quantity": max(1, math.ceil(line.quantity * AMOUNT_SCALE - 1e-9)),
                "substitutes": candidates[1:],
            }
        )
    if unfilled or not items:
        return None, unfilled
    request = BulkBasketRequest(
        items=items, max_stores=max_stores, store_visit_cost=store_visit_cost, cost_per_km=0
    )
    return request, []


def amount_snapshot(
    snapshot: CatalogSnapshot, packaged: dict[str, tuple[str, str, float]]
) -> CatalogSnapshot:
    """The snapshot with each offer's pack size set to its package quantity in thousandths."""
    offers = [
        ShelfOffer(
            o.store_key, o.product_key, o.price, max(1, round(packaged[o.product_key][2] * AMOUNT_SCALE))
        )
        for o in snapshot.offers
        if o.product_key in packaged and packaged[o.product_key][2] > 0
    ]
    return CatalogSnapshot(
        stores=snapshot.stores,
        offers=offers,
        product_names=snapshot.product_names,
        prices_version=snapshot.prices_version,
        price_date=snapshot.price_date,
    )


@dataclass
class SavedList:
    list_id: str
    anonymous_user_id: str | None = None
    quantities: dict[str, int] = field(default_factory=dict)
    substitutes: dict[str, list[str]] = field(default_factory=dict)
    max_stores: int | None = None
    postcode: str | None = None


def replay_saved_lists(events: Iterable[tuple[str, Any, dict[str, Any]]]) -> dict[str, SavedList]:
    """``events`` as (event_type, anonymous_user_id, payload), already in occurrence order."""
    lists: dict[str, SavedList] = {}
    for event_type, anonymous_user_id, payload in events:
        list_id = payload.get("list_id")
        if not list_id:
            continue
        saved = lists.get(list_id)
        if saved is None:
            saved = lists[list_id] = SavedList(list_id, str(anonymous_user_id) if anonymous_user_id else None)
        if event_type == "item_added" and payload.get("product_key"):
            quantity = payload.get("quantity") or 1
            if isinstance(quantity, int) and quantity > 0:
                key = payload["product_key"]
                saved.quantities[key] = saved.quantities.get(key, 0) + quantity
        elif event_type == "item_removed":
            saved.quantities.pop(payload.get("product_key"), None)
        elif event_type == "substitution_chosen":
            source, target = payload.get("from_product_key"), payload.get("to_product_key")
            if source and target and target not in saved.substitutes.setdefault(source, []):
                saved.substitutes[source].append(target)
        elif event_type == "optimizer_request":
            if isinstance(payload.get("max_stores"), int) and payload["max_stores"] > 0:
                saved.max_stores = payload["max_stores"]
            saved.postcode = payload.get("postcode") or saved.postcode
    return lists


def saved_list_request(
    saved: SavedList, known_products: set[str], store_visit_cost: float, default_max_stores: int
) -> BasketRequest | None:
    """The list as a basket (products the catalog does not know are left out); None if empty."""
    items = [
        {
            "product_key": key,
            "quantity": quantity,
            "substitutes": [s for s in saved.substitutes.get(key, []) if s in known_products and s != key],
        }
        for key, quantity in saved.quantities.items()
        if key in known_products
    ]
    if not items:
        return None
    return BasketRequest(
        items=items,
        max_stores=saved.max_stores or default_max_stores,
        store_visit_cost=store_visit_cost,
        cost_per_km=0.0,
    )


def standard_baskets(
    snapshot: CatalogSnapshot, store_visit_cost: float, max_stores: int, sizes: dict[str, int] | None = None
) -> list[tuple[str, BasketRequest]]:
    """Per size: the products stocked by the most stores of the snapshot (tie-break by key),
    quantities 1-3 derived from the key so they are stable across runs."""
    stores_per_product: dict[str, set[str]] = {}
    for offer in snapshot.offers:
        stores_per_product.setdefault(offer.product_key, set()).add(offer.store_key)
    ranked = sorted(stores_per_product, key=lambda key: (-len(stores_per_product[key]), key))
    baskets = []
    for name, size in (sizes or STANDARD_BASKET_SIZES).items():
        chosen = ranked[:size]
        if not chosen:
            continue
        items = [{"product_key": key, "quantity": 1 + sum(map(ord, key)) % 3} for key in chosen]
        baskets.append(
            (
                name,
                BasketRequest(
                    items=items, max_stores=max_stores, store_visit_cost=store_visit_cost, cost_per_km=0
                ),
            )
        )
    return baskets


def region_snapshot(snapshot: CatalogSnapshot, region: str) -> CatalogSnapshot:
    stores = [s for s in snapshot.stores if s.region == region]
    keys = {s.store_key for s in stores}
    return CatalogSnapshot(
        stores=stores,
        offers=[o for o in snapshot.offers if o.store_key in keys],
        product_names=snapshot.product_names,
        prices_version=snapshot.prices_version,
        price_date=snapshot.price_date,
    )


def region_shard(region: str, shards: int) -> int:
    """The shard (0 .. shards-1) that solves ``region``'s baskets: stable across runs and machines
    (crc32, not Python's salted hash), so a region's rows are always replaced by the same shard."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    return zlib.crc32(region.encode("utf-8")) % shards


def solve_task(task: tuple, snapshots: dict[str, CatalogSnapshot]) -> tuple[str, dict[str, Any]]:
    """(task id, snapshot key, basket as dict[, bulk]) -> (task id, result). Errors become a
    status, not a crash. ``bulk``: a basket the batch built (BulkBasketRequest limits)."""
    task_id, snapshot_key, basket, *rest = task
    request_class = BulkBasketRequest if rest and rest[0] else BasketRequest
    try:
        result = optimize_basket(
            request_class.model_validate(basket), snapshots[snapshot_key], SolverConfig(), direct=True
        )
    except BasketError as exc:
        result = {"status": "error", "message": str(exc)}
    return task_id, result


def solve_batch(
    tasks: list[tuple[str, str, dict[str, Any]]], snapshots: dict[str, CatalogSnapshot]
) -> tuple[dict[str, dict[str, Any]], float]:
    """Solve every task in this process; returns results and solve seconds. Parallelism comes
    from running shards as separate Dagster steps, not from a pool here."""
    started = time.perf_counter()
    results = dict(solve_task(task, snapshots) for task in tasks)
    return results, time.perf_counter() - started
