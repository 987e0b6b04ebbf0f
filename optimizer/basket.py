"""Sample-basket helper for the pipeline: current prices -> split problem -> savings summary.

DB-free on purpose: the Dagster asset queries Postgres for ``(store_id, product_id, price)`` rows
and calls these functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from optimizer.data import ProblemError, SplitProblem
from optimizer.results import store_breakdown
from optimizer.solution import SplitSolution


def basket_problem_from_prices(
    rows: Iterable[tuple[str, str, float]],
    basket: list[tuple[str, int]],
    store_visit_cost: float,
    max_stores: int | None,
) -> SplitProblem:
    """Build a split problem for ``basket`` from current unit prices.

    Item cost = unit price x quantity; a product a store has no price for is not stocked there.
    Stores are those with a price for at least one basket product (sorted by id); a product listed
    twice in the basket has its quantities added; if a store has two prices for a product the
    lower one is used.
    """
    quantities: dict[str, int] = {}
    for entry in basket:
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            raise ProblemError(f"basket entries must be (product_id, quantity) pairs, got {entry!r}")
        product, quantity = entry
        if not isinstance(product, str) or not product:
            raise ProblemError(f"basket product id must be a non-empty string, got {product!r}")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ProblemError(f"quantity of {product!r} must be a positive integer, got {quantity!r}")
        quantities[product] = quantities.get(product, 0) + quantity
    if not quantities:
        raise ProblemError("basket is empty: give at least one (product_id, quantity)")

    unit_price: dict[tuple[str, str], float] = {}
    for store, product, price in rows:
        if product not in quantities:
            continue
        if price is None or not math.isfinite(float(price)) or float(price) < 0:
            raise ProblemError(f"price of {product!r} at store {store!r} must be a non-negative number")
        key = (str(store), product)
        unit_price[key] = min(float(price), unit_price.get(key, math.inf))

    items = list(quantities)
    stores = sorted({store for store, _ in unit_price})
    if not stores:
        stores = ["(no store)"]  # keeps the problem well-formed; the solve reports the unstocked item
    cost = [
        [
            None if (store, item) not in unit_price else unit_price[(store, item)] * quantities[item]
            for store in stores
        ]
        for item in items
    ]
    return SplitProblem(
        items=items,
        stores=stores,
        cost=cost,
        store_cost=[float(store_visit_cost)] * len(stores),
        max_stores=max_stores,
    )


def best_single_store(problem: SplitProblem) -> tuple[str, float] | None:
    """The cheapest single store that stocks every required item (or an allowed substitute),
    with its total including the visit cost; None if no store stocks everything."""
    item_index = {item: i for i, item in enumerate(problem.items)}
    best: tuple[str, float] | None = None
    for s, store in enumerate(problem.stores):
        total = float(problem.store_cost[s])
        for need in problem.required_items:
            prices = [problem.cost[item_index[p]][s] for p in problem.options(need)]
            prices = [p for p in prices if p is not None]
            if not prices:
                break
            total += min(prices)
        else:
            if best is None or total < best[1]:
                best = (store, total)
    return best


def summarise_split(problem: SplitProblem, solution: SplitSolution) -> dict[str, Any]:
    """Per-store item lists with subtotals, the split total (items + visits), the best single
    store's total and the saving (best single total - split total; None without a single store)."""
    single = best_single_store(problem)
    summary: dict[str, Any] = {
        "status": solution.status,
        "stores": [],
        "items_total": None,
        "visit_total": None,
        "total": None,
        "best_single_store": single[0] if single else None,
        "best_single_total": single[1] if single else None,
        "saving": None,
    }
    if solution.message:
        summary["message"] = solution.message
    if solution.objective is None:
        return summary
    stores = store_breakdown(problem, solution)
    items_total = sum(row["subtotal"] for row in stores)
    visit_total = sum(row["visit_cost"] for row in stores)
    summary.update(
        stores=stores,
        items_total=items_total,
        visit_total=visit_total,
        total=items_total + visit_total,
    )
    if single is not None:
        summary["saving"] = single[1] - summary["total"]
    return summary
