"""Substitutes, budget, store limit, unstocked items, and input validation."""

from __future__ import annotations

import json

import numpy as np
import pyomo.kernel as pmo
import pytest

from optimizer.data import ProblemError, SplitProblem, problem_from_json, read_orlib
from optimizer.model import build_model
from optimizer.results import solution_to_json, store_breakdown
from optimizer.solve import SolveError, SolverConfig, solve, solve_model, to_highs


def with_oat_milk(groceries, **overrides) -> SplitProblem:
    """groceries() plus oat milk (B: 0.5 only) as an allowed substitute for milk.

    A+B becomes 2 + oat milk@B 0.5 + bread@B 1 + eggs@A 2 = 5.5 (was 6); oat milk is not required
    on its own. With one store, A alone is still 9 (A has no oat milk).
    """
    fields = dict(
        items=["milk", "bread", "eggs", "oat_milk"],
        cost=[[1.0, 5.0, 1.0], [5.0, 1.0, 1.0], [2.0, None, 1.0], [None, 0.5, None]],
        substitutes={"milk": ["oat_milk"]},
    )
    fields.update(overrides)
    return groceries(**fields)


def test_substitute_is_bought_when_cheaper(groceries):
    problem = with_oat_milk(groceries)
    assert problem.required_items == ["milk", "bread", "eggs"]
    solution = solve(problem)
    assert solution.objective == pytest.approx(5.5)
    assert solution.bought["milk"] == "oat_milk"
    assert solution.assignment["milk"] == "B"
    assert "oat_milk" not in solution.assignment
    assert solution_to_json(problem, solution)["substitutions"] == {"milk": "oat_milk"}


def test_substitute_key_makes_alternative_required_too(groceries):
    # Listing oat_milk as a key (no alternatives) asks for it as well: 5.5 + oat milk 0.5 = 6.
    solution = solve(with_oat_milk(groceries, substitutes={"milk": ["oat_milk"], "oat_milk": []}))
    assert solution.objective == pytest.approx(6.0)
    assert solution.bought == {"milk": "oat_milk", "bread": "bread", "eggs": "eggs", "oat_milk": "oat_milk"}


def test_substitute_covers_unstocked_item(groceries):
    # milk stocked nowhere, but oat milk at B is allowed: A+B = 2 + 0.5 + 1 + 2 = 5.5.
    problem = with_oat_milk(
        groceries, cost=[[None, None, None], [5.0, 1.0, 1.0], [2.0, None, 1.0], [None, 0.5, None]]
    )
    assert solve(problem).objective == pytest.approx(5.5)


def test_budget_that_fits_is_optimal(groceries):
    assert solve(groceries(budget=6.0)).objective == pytest.approx(6.0)


def test_budget_too_low_is_infeasible_with_reason(groceries):
    solution = solve(groceries(budget=5.9))
    assert solution.status == "infeasible"
    assert "budget too low" in solution.message and "6.00" in solution.message
    assert solution.infeasible_item in {"eggs"}  # the dearest item of the cheapest split (2.00)
    with pytest.raises(SolveError, match="infeasible"):
        solution.require_optimal()


def test_budget_with_store_limit(groceries):
    # With one store the cheapest is A at 9, so a budget of 8 cannot be met.
    solution = solve(groceries(max_stores=1, budget=8.0))
    assert solution.status == "infeasible"
    assert "9.00" in solution.message


def test_item_stocked_nowhere_is_named(groceries):
    problem = groceries(
        items=["milk", "bread", "eggs", "caviar"],
        cost=[[1.0, 5.0, 1.0], [5.0, 1.0, 1.0], [2.0, None, 1.0], [None, None, None]],
    )
    solution = solve(problem)
    assert solution.status == "infeasible"
    assert solution.infeasible_item == "caviar"
    assert "'caviar'" in solution.message
    assert solution_to_json(problem, solution) == {
        "status": "infeasible",
        "message": solution.message,
        "infeasible_item": "caviar",
    }


def test_store_limit_too_tight_says_how_many_stores_are_needed():
    problem = SplitProblem(
        items=["milk", "bread"],
        stores=["A", "B"],
        cost=[[1.0, None], [None, 1.0]],
        store_cost=[0, 0],
        max_stores=1,
    )
    solution = solve(problem)
    assert solution.status == "infeasible"
    assert "at least 2 stores" in solution.message
    assert solution.infeasible_item in {"milk", "bread"}


def test_store_limit_names_the_item_the_best_stores_leave_out():
    # Two stores allowed. A has milk and butter, B bread and jam, C only tea: A+B covers four
    # items, A+C or B+C three, so the best pair (A, B) leaves out tea; all three stores are needed.
    problem = SplitProblem(
        items=["milk", "butter", "bread", "jam", "tea"],
        stores=["A", "B", "C"],
        cost=[[1, None, None], [1, None, None], [None, 1, None], [None, 1, None], [None, None, 1]],
        store_cost=[1, 1, 1],
        max_stores=2,
    )
    solution = solve(problem)
    assert solution.status == "infeasible"
    assert solution.infeasible_item == "tea"
    assert "at least 3 stores" in solution.message and "'tea'" in solution.message


def test_zero_store_limit(groceries):
    assert solve(groceries(max_stores=0)).status == "infeasible"


def test_store_breakdown_subtotals(groceries):
    problem = groceries()
    rows = store_breakdown(problem, solve(problem))
    assert [r["store"] for r in rows] == ["A", "B"]
    assert rows[0]["subtotal"] == pytest.approx(3.0) and rows[0]["total"] == pytest.approx(4.0)
    assert [i["item"] for i in rows[1]["items"]] == ["bread"]


def test_model_is_a_pyomo_model_with_values_loaded(groceries):
    problem = groceries()
    model = build_model(problem)
    # 3 stores + 8 stocked pairs; 3 assignment rows + 8 linking rows
    assert len(model.store_open) == 3 and len(model.buy) == 8
    assert len(model.assign) == 3 and len(model.link) == 8
    lp = to_highs(model).lp
    assert (lp.num_col_, lp.num_row_) == (11, 11)
    solution = solve_model(model, SolverConfig())
    assert solution.objective == pytest.approx(6.0)
    assert [round(v.value) for v in model.store_open] == [1, 1, 0]
    assert model.total_cost() == pytest.approx(6.0)


def test_time_limit_status_is_reported(groceries):
    solution = solve(groceries(), time_limit=0.0)
    assert solution.status in {"time_limit", "optimal"}  # presolve may finish a tiny model at once


@pytest.mark.parametrize(
    "obj, match",
    [
        ([], "must be an object"),
        ({"items": ["a"], "stores": ["s"], "cost": [[1]]}, "missing store_cost"),
        ({"items": ["a"], "stores": ["s"], "cost": [[1, 2]], "store_cost": [0]}, "one entry per store"),
        ({"items": ["a", "b"], "stores": ["s"], "cost": [[1]], "store_cost": [0]}, "one row per item"),
        ({"items": ["a"], "stores": ["s"], "cost": [["x"]], "store_cost": [0]}, "non-numeric"),
        ({"items": ["a"], "stores": ["s"], "cost": [[True]], "store_cost": [0]}, "non-numeric"),
        ({"items": ["a"], "stores": ["s"], "cost": [["1.5"]], "store_cost": [0]}, "non-numeric"),
        ({"items": ["a"], "stores": ["s"], "cost": [[float("nan")]], "store_cost": [0]}, "NaN"),
        ({"items": ["a"], "stores": ["s"], "cost": [[1, [2]]], "store_cost": [0]}, "one entry per store"),
        ({"items": ["a"], "stores": ["s", "t"], "cost": [[1, [2]]], "store_cost": [0, 0]}, "non-numeric"),
        ({"items": ["a"], "stores": ["s"], "cost": [[-1]], "store_cost": [0]}, "non-negative"),
        ({"items": ["a", "a"], "stores": ["s"], "cost": [[1], [1]], "store_cost": [0]}, "unique"),
        ({"items": [], "stores": ["s"], "cost": [], "store_cost": [0]}, "items is empty"),
        ({"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": [0], "max_stores": -1}, "max_stores"),
        (
            {"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": [0], "max_stores": 1.5},
            "max_stores",
        ),
        ({"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": ["0"]}, "store_cost"),
        ({"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": [0], "budget": "x"}, "budget"),
        (
            {"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": [0], "substitutes": {"b": []}},
            "unknown",
        ),
        (
            {"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": [0], "substitutes": {"a": ["z"]}},
            "unknown",
        ),
        ({"items": ["a"], "stores": ["s"], "cost": [[1]], "store_cost": [0], "colour": 1}, "unknown keys"),
    ],
)
def test_malformed_json_problems(obj, match):
    with pytest.raises(ProblemError, match=match):
        problem_from_json(obj)


def test_json_round_trip():
    obj = {"items": ["a", "b"], "stores": ["s", "t"], "cost": [[1, None], [None, 2]], "store_cost": [1, 1]}
    problem = problem_from_json(json.loads(json.dumps(obj)))
    solution = solve(problem)
    assert solution_to_json(problem, solution) == {
        "status": "optimal",
        "objective": 5.0,
        "open_stores": ["s", "t"],
        "assignment": {"a": "s", "b": "t"},
    }


def test_read_orlib_truncated(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("2 2\n10 5.\n10 7.\n1\n3 4\n")
    with pytest.raises(ProblemError, match="truncated"):
        read_orlib(path)


def test_read_orlib_wrapped_lines_and_odd_capacity(tmp_path):
    # costs wrap across lines; capacity column holds a word -- both must be accepted.
    path = tmp_path / "tiny.txt"
    path.write_text("2 2\ncapacity 5.\ncapacity 7.\n1\n3\n4\n1\n9 1\n")
    problem = read_orlib(path)
    assert problem.store_cost == [5.0, 7.0]
    assert problem.cost == [[3.0, 4.0], [9.0, 1.0]]
    # open store1 (5): 3 + 9 = 17; store2 (7): 4 + 1 = 12; both: 12 + 3 + 1 = 16. Optimum 12.
    assert solve(problem).objective == pytest.approx(12.0)


def test_linear_objective_builds_its_expression_on_demand(groceries):
    model = build_model(groceries())
    objective = model.total_cost
    assert objective.variables is not None and len(objective.coefficients) == 11
    expr = objective.expr  # materialised now: one monomial per column
    assert expr.nargs() == 11
    assert objective.variables is not None  # reading does not drop the arrays


def test_translation_of_a_plain_pyomo_objective_matches(groceries):
    model = build_model(groceries())
    fast = to_highs(model).lp
    expr = model.total_cost.expr
    del model.total_cost
    model.total_cost = pmo.objective(expr)
    generic = to_highs(model).lp
    assert np.allclose(fast.col_cost_, generic.col_cost_)
