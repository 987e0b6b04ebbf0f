"""Fixtures for the optimizer tests: the shared OR-Library instances and a small hand-checked list."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.data import SplitProblem

# shared/ sits beside the repo: <parent>/main (repo) and <parent>/shared.
ORLIB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "orlib"


@pytest.fixture
def orlib_dir() -> Path:
    if not ORLIB_DIR.is_dir():
        pytest.skip(f"OR-Library instances not found at {ORLIB_DIR} (shared/ must sit beside the repo)")
    return ORLIB_DIR


def make_groceries(**overrides) -> SplitProblem:
    """Three items, three stores.

    visit:   A=1   B=1   C=10
    milk:    A 1   B 5   C 1
    bread:   A 5   B 1   C 1
    eggs:    A 2   B -   C 1

    Single stores: A = 1+1+5+2 = 9, B cannot sell eggs, C = 10+3 = 13.
    Pairs: A+B = 2 + milk@A 1 + bread@B 1 + eggs@A 2 = 6; A+C = 11+3 = 14; B+C = 11+3 = 14.
    All three: 12 + 3 = 15. Optimum: A+B at 6; with at most one store: A at 9.
    """
    fields = dict(
        items=["milk", "bread", "eggs"],
        stores=["A", "B", "C"],
        cost=[[1.0, 5.0, 1.0], [5.0, 1.0, 1.0], [2.0, None, 1.0]],
        store_cost=[1.0, 1.0, 10.0],
        max_stores=None,
    )
    fields.update(overrides)
    return SplitProblem(**fields)


@pytest.fixture
def groceries():
    """Factory for the hand-checked three-store list (see ``make_groceries``)."""
    return make_groceries
