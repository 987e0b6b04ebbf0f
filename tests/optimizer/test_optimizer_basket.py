"""The sample-basket helper: prices -> problem -> per-store summary with savings."""

from __future__ import annotations

import pytest

from optimizer.basket import basket_problem_from_prices, best_single_store, summarise_split
from optimizer.data import ProblemError
from optimizer.solve import solve

# unit prices; "dairy" lacks bread, "bakery" lacks milk, "mega" has everything
PRICES = [
    ("mega", "milk", 1.20),
    ("mega", "bread", 2.50),
    ("mega", "eggs", 3.00),
    ("dairy", "milk", 0.80),
    ("dairy", "eggs", 2.00),
    ("bakery", "bread", 1.50),
    ("bakery", "eggs", 3.50),
    ("bakery", "flour", 9.99),  # not in the basket: ignored
]
BASKET = [("milk", 2), ("bread", 1), ("eggs", 1)]


def test_problem_from_prices():
    problem = basket_problem_from_prices(PRICES, BASKET, store_visit_cost=1.0, max_stores=None)
    assert problem.items == ["milk", "bread", "eggs"]
    assert problem.stores == ["bakery", "dairy", "mega"]
    assert problem.cost[0] == [None, pytest.approx(1.6), pytest.approx(2.4)]  # price x quantity
    assert problem.store_cost == [1.0, 1.0, 1.0]


def test_summary_with_saving():
    # mega alone: 1 + 2.40 + 2.50 + 3.00 = 8.90.
    # dairy + bakery: 2 + milk 1.60 + eggs 2.00 + bread 1.50 = 7.10 (optimal; saving 1.80).
    # dairy + mega: 2 + 1.60 + 2.00 + 2.50 = 8.10; bakery + mega: 2 + 2.40 + 1.50 + 3.00 = 8.90.
    problem = basket_problem_from_prices(PRICES, BASKET, store_visit_cost=1.0, max_stores=None)
    summary = summarise_split(problem, solve(problem))
    assert summary["total"] == pytest.approx(7.10)
    assert summary["best_single_store"] == "mega"
    assert summary["best_single_total"] == pytest.approx(8.90)
    assert summary["saving"] == pytest.approx(1.80)
    assert [row["store"] for row in summary["stores"]] == ["bakery", "dairy"]
    dairy = summary["stores"][1]
    assert [i["item"] for i in dairy["items"]] == ["milk", "eggs"]
    assert dairy["subtotal"] == pytest.approx(3.60)


def test_summary_with_one_store_allowed():
    problem = basket_problem_from_prices(PRICES, BASKET, store_visit_cost=1.0, max_stores=1)
    summary = summarise_split(problem, solve(problem))
    assert summary["total"] == pytest.approx(8.90)
    assert summary["saving"] == pytest.approx(0.0)


def test_no_single_store_has_everything():
    rows = [r for r in PRICES if r[0] != "mega"]
    problem = basket_problem_from_prices(rows, BASKET, store_visit_cost=1.0, max_stores=None)
    assert best_single_store(problem) is None
    summary = summarise_split(problem, solve(problem))
    assert summary["total"] == pytest.approx(7.10)
    assert summary["best_single_total"] is None and summary["saving"] is None


def test_product_without_price_is_named():
    problem = basket_problem_from_prices(PRICES, [*BASKET, ("saffron", 1)], 1.0, None)
    solution = solve(problem)
    summary = summarise_split(problem, solution)
    assert summary["status"] == "infeasible"
    assert "'saffron'" in summary["message"]
    assert summary["total"] is None


@pytest.mark.parametrize(
    "basket, match",
    [([], "empty"), ([("milk", 0)], "positive integer"), ([("milk",)], "pairs"), ([("", 1)], "non-empty")],
)
def test_bad_baskets(basket, match):
    with pytest.raises(ProblemError, match=match):
        basket_problem_from_prices(PRICES, basket, 1.0, None)


def test_duplicate_basket_lines_add_up_and_lowest_duplicate_price_wins():
    rows = [*PRICES, ("mega", "milk", 1.00)]
    problem = basket_problem_from_prices(rows, [("milk", 1), ("milk", 2)], 0.0, None)
    assert problem.items == ["milk"]
    assert problem.cost[0][problem.stores.index("mega")] == pytest.approx(3.0)
