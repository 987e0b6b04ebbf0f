"""The batch path (arrays straight to HiGHS) and LP-first solving agree with the canonical
Pyomo path and with exhaustive search."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.model import build_model, split_matrices
from optimizer.solve import SolverConfig, highs_lp, solve, to_highs

_spec = importlib.util.spec_from_file_location(
    "optimizer_random_cases", Path(__file__).with_name("test_optimizer_random.py")
)
_random_cases = importlib.util.module_from_spec(_spec)
sys.modules["optimizer_random_cases"] = _random_cases
_spec.loader.exec_module(_random_cases)
random_problem, exhaustive_optimum = _random_cases.random_problem, _random_cases.exhaustive_optimum


@pytest.mark.parametrize("seed", range(0, 40))
def test_direct_and_lp_first_match_exhaustive_search(seed):
    problem = random_problem(seed)
    if seed % 3 == 0:  # some with a budget around the optimum
        best = exhaustive_optimum(problem)
        if best is not None:
            problem = dataclasses.replace(problem, budget=best + (0.5 if seed % 2 else -0.5))
    expected = exhaustive_optimum(dataclasses.replace(problem, budget=None))
    within_budget = expected is not None and (problem.budget is None or expected <= problem.budget + 1e-9)
    outcomes = [
        solve(problem, config=SolverConfig()),
        solve(problem, config=SolverConfig(), direct=True),
        solve(problem, config=SolverConfig(lp_first=False)),
        solve(problem, config=SolverConfig(lp_first=False), direct=True),
    ]
    for solution in outcomes:
        if within_budget:
            assert solution.status == "optimal" and solution.objective == pytest.approx(expected, abs=1e-6)
        else:
            assert solution.status == "infeasible"
    assert len({(s.status, tuple(s.open_stores)) for s in outcomes[:2]}) == 1


def test_highs_lp_is_the_pyomo_translation(groceries):
    for problem in (
        groceries(),
        groceries(max_stores=2, budget=20.0),
        groceries(substitutes={"milk": ["eggs"]}),
    ):
        direct = highs_lp(split_matrices(problem))
        pyomo = to_highs(build_model(problem)).lp
        for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
            assert np.array_equal(getattr(direct, name), getattr(pyomo, name)), name
        assert list(direct.integrality_) == list(pyomo.integrality_)
        for name in ("start_", "index_", "value_"):
            assert np.array_equal(getattr(direct.a_matrix_, name), getattr(pyomo.a_matrix_, name)), name


def test_orlib_optimum_on_the_direct_path(orlib_dir):
    from optimizer.data import read_orlib

    problem = read_orlib(orlib_dir / "cap71.txt")
    canonical = solve(problem, config=SolverConfig()).require_optimal()
    direct = solve(problem, config=SolverConfig(), direct=True).require_optimal()
    assert direct.objective == pytest.approx(canonical.objective, rel=1e-6)


def test_reduced_cost_fixing_keeps_the_optimum():
    """Baskets whose LP relaxation is fractional go through fixing + MIP: same optimum as the
    plain MIP, on both paths."""
    import optimizer.solve as solve_module

    spec = importlib.util.spec_from_file_location(
        "optimizer_benchmark_module",
        Path(__file__).resolve().parents[2] / "benchmarks" / "optimizer_benchmark.py",
    )
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    realistic_basket = benchmark.realistic_basket

    fixed_runs = []
    original = solve_module._run_highs

    def spy(lp, config, integer, upper_bound=None):
        result = original(lp, config, integer, upper_bound)
        fixed_runs.append(upper_bound is not None)
        return result

    solve_module._run_highs = spy
    try:
        for seed in range(40):
            problem = realistic_basket(seed)
            plain = solve(problem, config=SolverConfig(lp_first=False)).require_optimal()
            for direct in (False, True):
                fast = solve(problem, config=SolverConfig(), direct=direct).require_optimal()
                assert fast.objective == pytest.approx(plain.objective, rel=1e-9, abs=1e-9), seed
    finally:
        solve_module._run_highs = original
    assert all(fixed_runs)
