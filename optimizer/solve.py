"""Solve a split problem with HiGHS: translate the Pyomo model, run, map termination to a status.

The translation reads the model's ``matrix_constraint`` blocks and linear objective directly into
a HiGHS ``HighsLp`` (numpy arrays, one ``passModel`` call), then loads the solution back into the
Pyomo variables. Statuses: ``optimal``, ``infeasible`` (with a message naming what cannot be
bought), ``time_limit`` (best incumbent, if any) and ``error``.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.kernel as pmo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.numvalue import value as pyo_value
from pyomo.core.kernel.matrix_constraint import matrix_constraint
from pyomo.core.kernel.set_types import IntegerSet

from optimizer.data import SplitProblem
from optimizer.model import (
    PairIndex,
    SplitMatrices,
    build_model,
    linear_objective,
    split_matrices,
    stocked_pairs,
)
from optimizer.solution import SolveError, SolverConfig, SplitSolution  # noqa: F401 - re-exported

_REUSABLE = threading.local()


def highs_instance(config: SolverConfig) -> highspy.Highs:
    """This thread's HiGHS instance, cleared and configured.

    Creating a ``Highs`` per solve costs more than solving a 50 x 30 basket (measured ~45 ms vs
    ~25 ms per solve with reuse under load), so each thread (HTTP worker thread, batch process)
    keeps one. ``clearModel`` drops the previous model, basis and solution; options are re-applied.
    """
    highs = getattr(_REUSABLE, "highs", None)
    if highs is None or _REUSABLE.pid != os.getpid():
        highs = highspy.Highs()
        _REUSABLE.highs, _REUSABLE.pid = highs, os.getpid()
    else:
        highs.clearModel()
    config.apply(highs)
    return highs


@dataclass
class HighsTranslation:
    lp: highspy.HighsLp
    variables: list[pmo.variable]
    integer: np.ndarray | None = None  # integer columns (bool mask)


def to_highs(model: pmo.block) -> HighsTranslation:
    """Translate a kernel block of variables, ``matrix_constraint`` rows and a linear objective."""
    variables: list[pmo.variable] = []
    matrices: list[matrix_constraint] = []
    objectives = []
    for child in model.children():
        if isinstance(child, matrix_constraint):
            matrices.append(child)
        elif isinstance(child, pmo.variable_list):
            variables.extend(child)
        elif isinstance(child, pmo.variable):
            variables.append(child)
        elif isinstance(child, pmo.objective):
            objectives.append(child)
        else:
            raise TypeError(f"to_highs does not handle component {child.name} ({type(child).__name__})")
    if len(objectives) != 1:
        raise TypeError(f"expected exactly one objective, found {len(objectives)}")
    n_cols = len(variables)
    column_of: dict[int, int] | None = None

    def columns_for(seq) -> np.ndarray | None:
        """None when ``seq`` is the model's column list itself (the fast, common case)."""
        nonlocal column_of
        if len(seq) == n_cols and all(map(operator.is_, seq, variables)):
            return None
        if column_of is None:
            column_of = {id(v): k for k, v in enumerate(variables)}
        return np.fromiter((column_of[id(v)] for v in seq), dtype=np.int64, count=len(seq))

    starts, indices, values, row_lower, row_upper = [np.zeros(1, dtype=np.int64)], [], [], [], []
    offset = 0
    for block in matrices:
        a = block.A
        cols = columns_for(block.x)
        indices.append(a.indices if cols is None else cols[a.indices])
        values.append(a.data)
        starts.append(a.indptr[1:] + offset)
        offset += a.nnz
        row_lower.append(np.asarray(block.lb, dtype=float))
        row_upper.append(np.asarray(block.ub, dtype=float))

    objective = objectives[0]
    cost = np.zeros(n_cols)
    if isinstance(objective, linear_objective) and objective.variables is not None:
        coefs, objective_vars = objective.coefficients, objective.variables
    else:
        expr = objective.expr
        if not isinstance(expr, LinearExpression):
            raise TypeError("to_highs expects a linear objective (a LinearExpression)")
        # Monomial terms are (coefficient, variable) pairs; read them without building a repn.
        terms = [term.args for term in expr.args]
        coefs = np.fromiter(map(operator.itemgetter(0), terms), dtype=float, count=len(terms))
        objective_vars = list(map(operator.itemgetter(1), terms))
    cols = columns_for(objective_vars)
    if cols is None:
        cost[:] = coefs
    else:
        np.add.at(cost, cols, coefs)
    lower, upper, integer = _column_bounds(variables)

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = sum(len(r) for r in row_lower)
    lp.sense_ = highspy.ObjSense.kMinimize if objective.sense == pmo.minimize else highspy.ObjSense.kMaximize
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    if integer.any():
        lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
    lp.row_lower_ = np.concatenate(row_lower) if row_lower else np.zeros(0)
    lp.row_upper_ = np.concatenate(row_upper) if row_upper else np.zeros(0)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.concatenate(starts).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32)
    lp.a_matrix_.value_ = np.concatenate(values) if values else np.zeros(0)
    return HighsTranslation(lp=lp, variables=variables, integer=integer)


def _column_bounds(variables: list[pmo.variable]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds and integrality per column, read in bulk (100k ``lb`` property calls cost ~0.1 s)."""
    n = len(variables)
    lower = _bound_array(list(map(operator.attrgetter("lower"), variables)), -math.inf)
    upper = _bound_array(list(map(operator.attrgetter("upper"), variables)), math.inf)
    domains = list(map(operator.attrgetter("domain_type"), variables))
    integer = np.fromiter((d is IntegerSet for d in domains), dtype=bool, count=n)
    return lower, upper, integer


def _bound_array(bounds: list, missing: float) -> np.ndarray:
    try:
        array = np.array(bounds, dtype=float)  # None -> nan
    except TypeError:  # a bound given as a Pyomo parameter or expression
        array = np.array([np.nan if b is None else pyo_value(b) for b in bounds], dtype=float)
    array[np.isnan(array)] = missing
    return array


def unstocked_item(problem: SplitProblem, pairs: PairIndex) -> str | None:
    """The first required item that no store stocks (nor any of its allowed substitutes)."""
    covered = np.zeros(len(pairs.needs), dtype=bool)
    covered[pairs.pair_need] = True
    missing = np.flatnonzero(~covered)
    return pairs.needs[missing[0]] if len(missing) else None


def solve(
    problem: SplitProblem,
    time_limit: float | None = None,
    config: SolverConfig | None = None,
    direct: bool = False,
) -> SplitSolution:
    """Build, solve and read back one split. Never raises for infeasible/limits: see ``status``.

    ``direct=True`` (the batch path) hands the model's arrays to HiGHS without building the Pyomo
    kernel block; the formulation, column and row order are the same (``highs_lp``).
    """
    config = config or SolverConfig.from_env()
    if time_limit is not None:
        config = dataclasses.replace(config, time_limit=time_limit)
    started = time.perf_counter()
    matrices = split_matrices(problem)
    model = None if direct else build_model(problem, matrices)
    pairs: PairIndex = matrices.pairs

    missing = unstocked_item(problem, pairs)
    if missing is not None:
        alternatives = problem.options(missing)[1:]
        also = f" (nor its substitutes {', '.join(alternatives)})" if alternatives else ""
        return SplitSolution(
            status="infeasible",
            infeasible_item=missing,
            message=f"item {missing!r}{also} is not stocked at any of the {len(problem.stores)} stores",
            solve_seconds=time.perf_counter() - started,
        )
    if problem.max_stores == 0:
        return SplitSolution(
            status="infeasible",
            message=f"max_stores is 0 but {len(pairs.needs)} items must be bought",
            solve_seconds=time.perf_counter() - started,
        )

    if model is not None:
        solution = solve_model(model, config)
    else:
        integer = np.zeros(matrices.n_cols, dtype=bool)
        integer[: matrices.n_stores] = True
        bound = rounding_bound(pairs, matrices.n_stores, problem.max_stores, problem.budget)
        solution, values = _run_highs(highs_lp(matrices), config, integer, bound)
        if values is not None:
            solution = read_split(pairs, matrices.n_stores, values, solution.status, solution.mip_gap)
    if solution.status == "infeasible":
        solution.message, solution.infeasible_item = _explain_infeasible(problem, config)
    solution.solve_seconds = time.perf_counter() - started
    return solution


def solve_model(model: pmo.block, config: SolverConfig) -> SplitSolution:
    """Run HiGHS on a built model, load values into its variables and read the split back."""
    translation = to_highs(model)
    pairs: PairIndex = model.pairs
    n_stores = len(model.store_open)
    limit = model.store_limit.ub[0] if hasattr(model, "store_limit") else None
    budget = model.budget.ub[0] if hasattr(model, "budget") else None
    bound = rounding_bound(pairs, n_stores, None if limit is None else int(limit), budget)
    solution, values = _run_highs(translation.lp, config, translation.integer, bound)
    if values is None:
        return solution
    for variable, value in zip(translation.variables, values.tolist(), strict=True):
        variable.value = value
    return read_split(model.pairs, len(model.store_open), values, solution.status, solution.mip_gap)


def highs_lp(matrices: SplitMatrices) -> highspy.HighsLp:
    """The split model's ``HighsLp`` straight from its arrays: the same columns, rows and order as
    ``to_highs(build_model(problem))`` (tests check both agree), without the Pyomo objects. The
    batch path uses it: per 50 x 30 basket the kernel build is ~60% of the time once the LP-first
    solve below has made HiGHS cheap."""
    n_cols, n_stores = matrices.n_cols, matrices.n_stores
    stacked = sp.vstack([a for _, a, _, _ in matrices.rows], format="csr")
    lower = np.concatenate(
        [np.full(len(upper), -math.inf) if low is None else low for _, _, low, upper in matrices.rows]
    )
    upper = np.concatenate([upper for _, _, _, upper in matrices.rows])
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, stacked.shape[0]
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.col_cost_ = matrices.objective
    lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), np.ones(n_cols)
    integer = np.zeros(n_cols, dtype=bool)
    integer[:n_stores] = True
    lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
    lp.row_lower_, lp.row_upper_ = lower, upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, lp.num_row_
    lp.a_matrix_.start_ = stacked.indptr.astype(np.int32)
    lp.a_matrix_.index_ = stacked.indices.astype(np.int32)
    lp.a_matrix_.value_ = stacked.data.astype(float)
    return lp


INTEGRALITY_TOLERANCE = 1e-9


def rounding_bound(
    pairs: PairIndex, n_stores: int, max_stores: int | None, budget: float | None
) -> Callable[[np.ndarray], float]:
    """An upper bound from an LP solution: the cost of buying every need at its cheapest store
    among the ``max_stores`` stores with the largest ``store_open`` values (or the best single one
    of those), a feasible split; inf if that leaves a need unbought or breaks the budget."""
    if len(pairs.pair_need) == 0:
        return lambda values: math.inf
    starts = np.flatnonzero(np.r_[True, pairs.pair_need[1:] != pairs.pair_need[:-1]])
    store_cost = np.asarray(pairs.store_cost, dtype=float)

    def bound(values: np.ndarray) -> float:
        ranked = np.argsort(-values[:n_stores], kind="stable")
        best = math.inf
        for chosen in (ranked[: max_stores or n_stores], ranked[:1]):
            is_open = np.zeros(n_stores, dtype=bool)
            is_open[chosen] = True
            per_need = np.minimum.reduceat(
                np.where(is_open[pairs.pair_store], pairs.pair_cost, math.inf), starts
            )
            total = float(per_need.sum() + store_cost[chosen].sum())
            if math.isfinite(total) and (budget is None or total <= budget):
                best = min(best, total)
        return best

    return bound


def _run_highs(
    lp: highspy.HighsLp,
    config: SolverConfig,
    integer: np.ndarray | None,
    upper_bound: Callable[[np.ndarray], float] | None = None,
) -> tuple[SplitSolution, np.ndarray | None]:
    """Solve; (status-only solution, column values or None).

    LP first: the strong formulation's relaxation is often integral (49 of 60 random 50 x 30
    baskets), and a relaxation optimum with integral ``store_open`` is feasible for the MIP and
    bounds it from below, so it is a proven MIP optimum, found in ~3 ms instead of ~25 ms of MIP
    machinery. Otherwise (fractional, or any non-optimal LP status) HiGHS solves the MIP.

    Reduced-cost fixing before that MIP (``upper_bound``: a feasible split's cost from the LP
    solution): a binary column at 0 with reduced cost d cannot be 1 in any solution cheaper than
    LP bound + d, so if that exceeds the known feasible cost the store is closed in every optimal
    split and its upper bound is set to 0 (typically 2/3 of the stores; ~30% off the MIP).
    """
    highs = highs_instance(config)
    ms = highspy.HighsModelStatus
    if config.lp_first and integer is not None and integer.any():
        integrality = lp.integrality_
        lp.integrality_ = []
        try:
            highs.passModel(lp)
            highs.run()
        finally:
            lp.integrality_ = integrality
        fixed_upper = None
        if highs.getModelStatus() == ms.kOptimal:
            solution = highs.getSolution()
            values = np.asarray(solution.col_value)
            ints = values[integer]
            if np.abs(ints - np.round(ints)).max(initial=0.0) <= INTEGRALITY_TOLERANCE:
                values[integer] = np.round(ints)
                return SplitSolution(status="optimal", mip_gap=0.0), values
            if upper_bound is not None and lp.sense_ == highspy.ObjSense.kMinimize:
                bound = upper_bound(values)
                if math.isfinite(bound):
                    lp_bound = highs.getInfo().objective_function_value
                    reduced = np.asarray(solution.col_dual)
                    tolerance = 1e-7 * max(1.0, abs(bound))
                    closable = (
                        integer & (values <= INTEGRALITY_TOLERANCE) & (lp_bound + reduced > bound + tolerance)
                    )
                    if closable.any():
                        fixed_upper = np.array(lp.col_upper_, dtype=float)
                        fixed_upper[closable] = 0.0
        highs.clearModel()
        if fixed_upper is not None:
            original_upper = lp.col_upper_
            lp.col_upper_ = fixed_upper
            try:
                highs.passModel(lp)
            finally:
                lp.col_upper_ = original_upper
        else:
            highs.passModel(lp)
    else:
        highs.passModel(lp)
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    if status == ms.kOptimal:
        label = "optimal"
    elif status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return SplitSolution(status="infeasible"), None
    elif status == ms.kTimeLimit:
        label = "time_limit"
    else:
        return SplitSolution(
            status="error", message=f"HiGHS ended with {highs.modelStatusToString(status)}"
        ), None
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return SplitSolution(status=label, message="no feasible split found within the time limit"), None
    return SplitSolution(status=label, mip_gap=info.mip_gap), np.asarray(highs.getSolution().col_value)


def read_split(
    pairs: PairIndex, n_stores: int, values: np.ndarray, status: str, mip_gap: float | None
) -> SplitSolution:
    """Turn column values into names: per required item the pair with the largest x (ties of
    equal cost may come back fractional; any of them is optimal)."""
    buy = values[n_stores:]
    order = np.lexsort((-buy, pairs.pair_need))
    _, first = np.unique(pairs.pair_need[order], return_index=True)
    chosen = order[first]
    problem_stores, problem_items = pairs.stores, pairs.items
    assignment, bought, item_cost = {}, {}, {}
    for pair in chosen.tolist():
        need = pairs.needs[pairs.pair_need[pair]]
        assignment[need] = problem_stores[pairs.pair_store[pair]]
        bought[need] = problem_items[pairs.pair_product[pair]]
        item_cost[need] = float(pairs.pair_cost[pair])
    used = sorted(set(pairs.pair_store[chosen].tolist()))
    visit = sum(pairs.store_cost[s] for s in used)
    return SplitSolution(
        status=status,
        objective=float(sum(item_cost.values()) + visit),
        open_stores=[problem_stores[s] for s in used],
        assignment=assignment,
        bought=bought,
        item_cost=item_cost,
        mip_gap=mip_gap,
    )


def _explain_infeasible(problem: SplitProblem, config: SolverConfig) -> tuple[str, str | None]:
    """Say which limit makes the list unbuyable: the budget, or too few stores allowed."""
    relaxed = None
    if problem.budget is not None:
        relaxed = solve(dataclasses.replace(problem, budget=None), config=config)
    if relaxed is not None and relaxed.is_optimal:
        most = max(relaxed.item_cost, key=relaxed.item_cost.get)
        return (
            f"budget too low: the cheapest split costs {relaxed.objective:.2f}, over the budget "
            f"{problem.budget:.2f} (largest item: {most!r} at {relaxed.item_cost[most]:.2f})",
            most,
        )
    # Fewest stores that stock everything: the same model with unit visit costs and free items.
    cover = dataclasses.replace(
        problem,
        cost=[[None if v is None else 0.0 for v in row] for row in problem.cost],
        store_cost=[1.0] * len(problem.stores),
        max_stores=None,
        budget=None,
    )
    needed = solve(cover, config=config)
    if needed.is_optimal and problem.max_stores is not None:
        left_out = items_left_out(problem, problem.max_stores, config)
        named = left_out[0] if left_out else None
        return (
            f"no set of at most {problem.max_stores} stores stocks every item: "
            f"at least {int(round(needed.objective))} stores are needed"
            + (f"; the best {problem.max_stores} leave out {named!r}" if named else ""),
            named,
        )
    return "no split satisfies the limits", None


def items_left_out(problem: SplitProblem, max_stores: int, config: SolverConfig) -> list[str]:
    """Required items that even the best choice of ``max_stores`` stores cannot supply.

    Maximum coverage, as its own small Pyomo model: ``covered[n] <= sum of open stores that stock
    n (or a substitute)``, ``sum open <= max_stores``, maximise the number of covered items.
    """
    pairs = stocked_pairs(problem)
    n_stores, n_needs = len(problem.stores), len(pairs.needs)
    need_store = sp.csr_matrix(
        (np.ones(len(pairs.pair_need)), (pairs.pair_need, pairs.pair_store)), shape=(n_needs, n_stores)
    )
    need_store.data[:] = 1.0  # duplicates (several options at one store) count once
    model = pmo.block()
    model.store_open = pmo.variable_list(pmo.variable(domain=pmo.Binary) for _ in range(n_stores))
    model.covered = pmo.variable_list(pmo.variable(domain=pmo.Binary) for _ in range(n_needs))
    columns = (*model.store_open, *model.covered)
    model.supply = matrix_constraint(
        sp.hstack([-need_store, sp.identity(n_needs, format="csr")], format="csr"), ub=0.0, x=columns
    )
    limit_row = sp.csr_matrix(np.concatenate([np.ones(n_stores), np.zeros(n_needs)]).reshape(1, -1))
    model.store_limit = matrix_constraint(limit_row, ub=float(max_stores), x=columns)
    model.items_covered = linear_objective(
        np.concatenate([np.zeros(n_stores), np.ones(n_needs)]), columns, sense=pmo.maximize
    )
    translation = to_highs(model)
    highs = highs_instance(config)
    highs.passModel(translation.lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return []
    covered = np.asarray(highs.getSolution().col_value)[n_stores:]
    return [need for need, value in zip(pairs.needs, covered.tolist(), strict=True) if value < 0.5]
