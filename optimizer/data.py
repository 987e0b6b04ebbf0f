"""Typed inputs of the store-split optimizer: the problem, its validation and its loaders.

A split problem is an uncapacitated facility location problem: stores are facilities (opening one
costs its visit cost), items are customers (each bought exactly once, from one open store that
stocks it). Extras: at most ``max_stores`` stores, substitutes, and a budget cap.

Substitutes: ``substitutes[item]`` lists other entries of ``items`` that the shopper accepts in
place of ``item``. An item that appears only as someone's substitute is *not* required on its own;
to require it as well, give it its own key (an empty list will do).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np


class ProblemError(ValueError):
    """The input does not describe a valid split problem; the message says what to fix."""


@dataclass(frozen=True)
class SplitProblem:
    """One shopping-list split: ``cost[i][s]`` is item i's cost at store s (None: not stocked)."""

    items: list[str]
    stores: list[str]
    cost: list[list[float | None]]
    store_cost: list[float]
    max_stores: int | None = None
    substitutes: dict[str, list[str]] | None = None
    budget: float | None = None
    # Dense float copy of ``cost`` with NaN for "not stocked", built once at validation so the
    # model builder never loops over Python lists.
    cost_array: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def required_items(self) -> list[str]:
        """Items that must be bought (directly or through a substitute), in ``items`` order."""
        if not self.substitutes:
            return list(self.items)
        only_alternatives = {alt for alts in self.substitutes.values() for alt in alts} - set(
            self.substitutes
        )
        return [item for item in self.items if item not in only_alternatives]

    def options(self, item: str) -> list[str]:
        """Products that satisfy ``item``: itself first, then its allowed substitutes."""
        alternatives = (self.substitutes or {}).get(item, [])
        return [item] + [alt for alt in dict.fromkeys(alternatives) if alt != item]


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


_PLAIN_TYPES = frozenset({float, int, type(None), np.float64})


def _plain_numbers(cost: Any, n_stores: int) -> bool:
    """True if every row is a list of ``n_stores`` floats/ints/None (no NaN, no bool, no str)."""
    if not isinstance(cost, list) or not all(isinstance(row, list) and len(row) == n_stores for row in cost):
        return False
    flat = [v for row in cost for v in row]
    if not set(map(type, flat)) <= _PLAIN_TYPES:
        return False
    return not any(v != v for v in flat if v is not None)  # NaN is the only value unequal to itself


def _checked_cost_array(cost: Any, items: list[str], stores: list[str]) -> np.ndarray:
    """Cell-by-cell validation with a message naming the offending row."""
    array = np.empty((len(items), len(stores)), dtype=float)
    for i, row in enumerate(cost):
        if not isinstance(row, list | tuple | np.ndarray) or len(row) != len(stores):
            raise ProblemError(
                f"cost row {i} (item {items[i]!r}) must have one entry per store ({len(stores)})"
            )
        bad = next((v for v in row if v is not None and not _is_number(v)), None)
        if bad is not None or any(isinstance(v, bool) for v in row):
            shown = bad if bad is not None else next(v for v in row if isinstance(v, bool))
            raise ProblemError(
                f"cost row {i} (item {items[i]!r}) has a non-numeric entry {shown!r}; use null if not stocked"
            )
        array[i] = [math.nan if v is None else v for v in row]
    if int(np.isnan(array).sum()) != sum(list(row).count(None) for row in cost):
        raise ProblemError(
            "cost entries must be numbers or null (NaN is not allowed; use null for not stocked)"
        )
    return array


def _validate(problem: SplitProblem) -> None:
    items, stores = problem.items, problem.stores
    for name, names in (("items", items), ("stores", stores)):
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ProblemError(f"{name} must be a list of non-empty strings")
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ProblemError(f"{name} must be unique; duplicated: {', '.join(dupes[:5])}")
    if not items:
        raise ProblemError("items is empty: give at least one item to buy")
    if not stores:
        raise ProblemError("stores is empty: give at least one store")

    cost = problem.cost
    if not isinstance(cost, list | np.ndarray) or len(cost) != len(items):
        raise ProblemError(f"cost must have one row per item ({len(items)} rows)")
    if _plain_numbers(cost, len(stores)):
        # Fast path (the batch prices 1500 cells per basket): only floats, ints and None.
        array = np.array(cost, dtype=float)
    else:
        array = _checked_cost_array(cost, items, stores)
    if np.isinf(array).any():
        raise ProblemError("cost entries must be finite (use null for not stocked)")
    # Negative prices or visit costs would make "a store you buy nothing at" worth visiting.
    if (array < 0).any():
        raise ProblemError("cost entries must be non-negative")
    object.__setattr__(problem, "cost_array", array)

    store_cost = problem.store_cost
    if not isinstance(store_cost, list | tuple | np.ndarray) or len(store_cost) != len(stores):
        raise ProblemError(f"store_cost must have one entry per store ({len(stores)})")
    if not all(_is_number(v) and math.isfinite(v) and v >= 0 for v in store_cost):
        raise ProblemError("store_cost entries must be finite non-negative numbers")

    if problem.max_stores is not None and (
        not isinstance(problem.max_stores, int)
        or isinstance(problem.max_stores, bool)
        or problem.max_stores < 0
    ):
        raise ProblemError("max_stores must be a non-negative integer or null")
    if problem.budget is not None and not (_is_number(problem.budget) and math.isfinite(problem.budget)):
        raise ProblemError("budget must be a finite number or null")

    if problem.substitutes is not None:
        if not isinstance(problem.substitutes, dict):
            raise ProblemError("substitutes must be an object mapping an item to a list of items")
        known = set(items)
        for item, alternatives in problem.substitutes.items():
            if item not in known:
                raise ProblemError(f"substitutes names unknown item {item!r}; it must be in items")
            if not isinstance(alternatives, list) or not all(isinstance(a, str) for a in alternatives):
                raise ProblemError(f"substitutes[{item!r}] must be a list of item names")
            unknown = [a for a in alternatives if a not in known]
            if unknown:
                raise ProblemError(
                    f"substitutes[{item!r}] names unknown item {unknown[0]!r}; add it to items with its costs"
                )


def problem_from_json(obj: Any) -> SplitProblem:
    """Build a problem from the generic JSON format (already parsed: a dict).

    ``{"items": [...], "stores": [...], "cost": [[...]], "store_cost": [...], "max_stores": K or null,
    "substitutes": {...} (optional), "budget": B or null (optional)}``
    """
    if not isinstance(obj, dict):
        raise ProblemError("problem JSON must be an object with items, stores, cost and store_cost")
    missing = [key for key in ("items", "stores", "cost", "store_cost") if key not in obj]
    if missing:
        raise ProblemError(f"problem JSON is missing {', '.join(missing)}")
    unknown = set(obj) - {"items", "stores", "cost", "store_cost", "max_stores", "substitutes", "budget"}
    if unknown:
        raise ProblemError(f"problem JSON has unknown keys: {', '.join(sorted(unknown))}")
    return SplitProblem(
        items=obj["items"],
        stores=obj["stores"],
        cost=obj["cost"],
        store_cost=obj["store_cost"],
        max_stores=obj.get("max_stores"),
        substitutes=obj.get("substitutes"),
        budget=obj.get("budget"),
    )


def read_problem_json(path: str | Path) -> SplitProblem:
    """Read a problem from a JSON file in the generic format."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ProblemError(f"cannot read problem file {path}: {exc.strerror}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return problem_from_json(obj)


def read_orlib(path: str | Path) -> SplitProblem:
    """Read an OR-Library warehouse-location file as an uncapacitated split problem.

    Format (a whitespace-separated token stream; cost lines may wrap): ``m n``, then m pairs
    ``capacity fixed_cost`` (capacity ignored, whatever it looks like), then per customer a
    demand token followed by m costs. Stores are named ``store1..m``, items ``item1..n``.
    """
    try:
        tokens = Path(path).read_text().split()
    except OSError as exc:
        raise ProblemError(f"cannot read OR-Library file {path}: {exc.strerror}") from None
    try:
        m, n = int(tokens[0]), int(tokens[1])
    except (IndexError, ValueError):
        raise ProblemError(f"{path}: first line must be 'stores items' (two integers)") from None
    if m <= 0 or n <= 0:
        raise ProblemError(f"{path}: store and item counts must be positive, got {m} {n}")
    expected = 2 + 2 * m + n * (1 + m)
    if len(tokens) < expected:
        raise ProblemError(f"{path}: truncated, expected {expected} numbers for {m} stores x {n} items")
    try:
        fixed = np.array(tokens[3 : 2 + 2 * m : 2], dtype=float)
        body = np.array(tokens[2 + 2 * m : expected], dtype=float).reshape(n, 1 + m)
    except ValueError as exc:
        raise ProblemError(f"{path}: non-numeric cost or fixed cost ({exc})") from None
    return SplitProblem(
        items=[f"item{j + 1}" for j in range(n)],
        stores=[f"store{i + 1}" for i in range(m)],
        cost=body[:, 1:].tolist(),
        store_cost=fixed.tolist(),
        max_stores=None,
    )
