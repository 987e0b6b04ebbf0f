"""Shape a split solution into JSON and per-store rows (no solving, no I/O)."""

from __future__ import annotations

from typing import Any

from optimizer.data import SplitProblem
from optimizer.solution import SplitSolution


def solution_to_json(problem: SplitProblem, solution: SplitSolution) -> dict[str, Any]:
    """``{"status", "objective", "open_stores", "assignment": {item: store}}`` plus, when a
    substitute was bought, ``"substitutions": {item: product}``; non-optimal adds ``"message"``."""
    result: dict[str, Any] = {"status": solution.status}
    if solution.objective is not None:
        result["objective"] = solution.objective
        result["open_stores"] = list(solution.open_stores)
        result["assignment"] = dict(solution.assignment)
        substitutions = {item: product for item, product in solution.bought.items() if product != item}
        if substitutions:
            result["substitutions"] = substitutions
    if solution.message:
        result["message"] = solution.message
    if solution.infeasible_item:
        result["infeasible_item"] = solution.infeasible_item
    return result


def store_breakdown(problem: SplitProblem, solution: SplitSolution) -> list[dict[str, Any]]:
    """One row per visited store, in ``problem.stores`` order: the items bought there with their
    costs, the items' subtotal, the visit cost and the store total."""
    store_index = {store: s for s, store in enumerate(problem.stores)}
    rows: dict[str, dict[str, Any]] = {}
    for store in sorted(set(solution.assignment.values()), key=store_index.__getitem__):
        rows[store] = {
            "store": store,
            "items": [],
            "subtotal": 0.0,
            "visit_cost": float(problem.store_cost[store_index[store]]),
        }
    for item, store in solution.assignment.items():
        row = rows[store]
        cost = solution.item_cost[item]
        row["items"].append({"item": item, "product": solution.bought.get(item, item), "cost": cost})
        row["subtotal"] += cost
    for row in rows.values():
        row["subtotal"] = round(row["subtotal"], 10)
        row["total"] = row["subtotal"] + row["visit_cost"]
    return list(rows.values())
