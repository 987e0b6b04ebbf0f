"""Random small instances against exhaustive search over store subsets (seeded)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from optimizer.data import SplitProblem
from optimizer.solve import solve


def random_problem(seed: int) -> SplitProblem:
    rng = random.Random(seed)
    n_items, n_stores = 6, 5
    items = [f"item{i}" for i in range(n_items)]
    stores = [f"store{s}" for s in range(n_stores)]
    cost = [[None if rng.random() < 0.3 else round(rng.uniform(0.5, 10.0), 2) for _ in stores] for _ in items]
    substitutes = None
    if seed % 2:  # odd seeds: the last two items are alternatives for random earlier items
        substitutes = {}
        for alternative in items[-2:]:
            substitutes.setdefault(rng.choice(items[:-2]), []).append(alternative)
    max_stores = rng.choice([1, 2, None])
    return SplitProblem(
        items=items,
        stores=stores,
        cost=cost,
        store_cost=[round(rng.uniform(0.0, 5.0), 2) for _ in stores],
        max_stores=max_stores,
        substitutes=substitutes,
    )


def exhaustive_optimum(problem: SplitProblem) -> float | None:
    """Cheapest total over every non-empty store subset within the limit; None if none works."""
    item_index = {item: i for i, item in enumerate(problem.items)}
    limit = problem.max_stores or len(problem.stores)
    best = math.inf
    for size in range(1, limit + 1):
        for subset in itertools.combinations(range(len(problem.stores)), size):
            total = sum(problem.store_cost[s] for s in subset)
            for need in problem.required_items:
                prices = [
                    problem.cost[item_index[p]][s]
                    for p in problem.options(need)
                    for s in subset
                    if problem.cost[item_index[p]][s] is not None
                ]
                if not prices:
                    total = math.inf
                    break
                total += min(prices)
            best = min(best, total)
    return None if best == math.inf else best


@pytest.mark.parametrize("seed", range(50))
def test_matches_exhaustive_search(seed):
    problem = random_problem(seed)
    expected = exhaustive_optimum(problem)
    solution = solve(problem)
    if expected is None:
        assert solution.status == "infeasible"
        assert solution.message
    else:
        assert solution.status == "optimal", solution.message
        assert solution.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
        if problem.max_stores is not None:
            assert len(solution.open_stores) <= problem.max_stores


@pytest.mark.parametrize("seed", range(0, 50, 5))
def test_budget_decides_feasibility(seed):
    problem = random_problem(seed)
    expected = exhaustive_optimum(problem)
    if expected is None:
        pytest.skip("instance infeasible without a budget")
    tight = SplitProblem(**{**_fields(problem), "budget": expected * 0.99})
    loose = SplitProblem(**{**_fields(problem), "budget": expected * 1.01})
    assert solve(tight).status == "infeasible"
    assert "budget too low" in solve(tight).message
    assert solve(loose).objective == pytest.approx(expected)


def _fields(problem: SplitProblem) -> dict:
    return {
        "items": problem.items,
        "stores": problem.stores,
        "cost": problem.cost,
        "store_cost": problem.store_cost,
        "max_stores": problem.max_stores,
        "substitutes": problem.substitutes,
    }
