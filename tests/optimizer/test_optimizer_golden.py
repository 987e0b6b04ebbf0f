"""Golden tests: hand-checked tiny instances and OR-Library instances with published optima."""

from __future__ import annotations

import pytest

from optimizer.data import SplitProblem, read_orlib
from optimizer.solve import solve


def test_tiny_split_is_two_stores(groceries):
    solution = solve(groceries())
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(6.0)
    assert solution.open_stores == ["A", "B"]
    assert solution.assignment == {"milk": "A", "bread": "B", "eggs": "A"}
    solution.require_optimal()


def test_tiny_one_store_limit(groceries):
    solution = solve(groceries(max_stores=1))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(9.0)
    assert solution.open_stores == ["A"]


def test_single_item_single_store():
    # Only one way to buy it: 2.5 + visit 0.5 = 3.
    problem = SplitProblem(items=["tea"], stores=["S"], cost=[[2.5]], store_cost=[0.5])
    solution = solve(problem)
    assert solution.objective == pytest.approx(3.0)
    assert solution.assignment == {"tea": "S"}


@pytest.mark.parametrize(
    "name, optimum",
    [
        ("cap71", 932615.750),
        ("cap133", 893076.712),
        pytest.param("capa", 17156454.478, marks=pytest.mark.slow),
    ],
)
def test_orlib_published_optimum(orlib_dir, name, optimum):
    problem = read_orlib(orlib_dir / f"{name}.txt")
    solution = solve(problem)
    assert solution.status == "optimal", solution.message
    assert solution.objective == pytest.approx(optimum, rel=1e-6)
    # every customer served by an open store, and the reported objective adds up
    assert set(solution.assignment.values()) <= set(solution.open_stores)
    store_index = {s: k for k, s in enumerate(problem.stores)}
    item_index = {s: k for k, s in enumerate(problem.items)}
    recomputed = sum(problem.store_cost[store_index[s]] for s in solution.open_stores) + sum(
        problem.cost[item_index[i]][store_index[s]] for i, s in solution.assignment.items()
    )
    assert recomputed == pytest.approx(solution.objective, rel=1e-9)


def test_orlib_shapes(orlib_dir):
    problem = read_orlib(orlib_dir / "cap71.txt")
    assert (len(problem.stores), len(problem.items)) == (16, 50)
    assert problem.store_cost[10] == 0.0 and problem.store_cost[0] == 7500.0
    assert problem.cost[0][0] == pytest.approx(6739.725)
