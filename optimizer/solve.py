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
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.kernel as pmo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.numvalue import value as pyo_value
from pyomo.core.kernel.matrix_constraint import matrix_constraint
from pyomo.core.kernel.set_types import IntegerSet

from optimizer.data import SplitProblem
from optimizer.model import PairIndex, build_model, linear_objective, stocked_pairs


class SolveError(RuntimeError):
    """A solve ended without an optimal solution where one was required."""


@dataclass(frozen=True)
class SolverConfig:
    """HiGHS settings. ``from_env`` reads SMARTCART_OPTIMIZER_TIME_LIMIT / _MIP_GAP / _THREADS."""

    time_limit: float | None = None
    # HiGHS' default relative gap (1e-4) would stop short of published optima; 1e-7 does not.
    mip_rel_gap: float = 1e-7
    threads: int | None = None
    log: bool = False

    @classmethod
    def from_env(cls) -> SolverConfig:
        env = os.environ
        return cls(
            time_limit=float(env["SMARTCART_OPTIMIZER_TIME_LIMIT"])
            if env.get("SMARTCART_OPTIMIZER_TIME_LIMIT")
            else None,
            mip_rel_gap=float(env.get("SMARTCART_OPTIMIZER_MIP_GAP") or 1e-7),
            threads=int(env["SMARTCART_OPTIMIZER_THREADS"])
            if env.get("SMARTCART_OPTIMIZER_THREADS")
            else None,
        )

    def apply(self, highs: highspy.Highs) -> None:
        highs.setOptionValue("output_flag", self.log)
        highs.setOptionValue("mip_rel_gap", self.mip_rel_gap)
        if self.time_limit is not None:
            highs.setOptionValue("time_limit", float(self.time_limit))
        if self.threads is not None:
            highs.setOptionValue("threads", int(self.threads))


@dataclass
class SplitSolution:
    """Outcome of one solve. ``assignment`` maps each required item to the store it is bought at;
    ``bought`` maps it to the product bought there (itself or a substitute)."""

    status: str
    objective: float | None = None
    open_stores: list[str] = field(default_factory=list)
    assignment: dict[str, str] = field(default_factory=dict)
    bought: dict[str, str] = field(default_factory=dict)
    item_cost: dict[str, float] = field(default_factory=dict)
    message: str | None = None
    infeasible_item: str | None = None
    mip_gap: float | None = None
    solve_seconds: float = 0.0

    @property
    def is_optimal(self) -> bool:
        return self.status == "optimal"

    def require_optimal(self) -> SplitSolution:
        """Return self if optimal; otherwise raise ``SolveError`` with the status and message."""
        if not self.is_optimal:
            raise SolveError(f"split not solved to optimality: {self.status}: {self.message or ''}".strip())
        return self


@dataclass
class HighsTranslation:
    lp: highspy.HighsLp
    variables: list[pmo.variable]


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
    return HighsTranslation(lp=lp, variables=variables)


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
    problem: SplitProblem, time_limit: float | None = None, config: SolverConfig | None = None
) -> SplitSolution:
    """Build, solve and read back one split. Never raises for infeasible/limits: see ``status``."""
    config = config or SolverConfig.from_env()
    if time_limit is not None:
        config = SolverConfig(time_limit, config.mip_rel_gap, config.threads, config.log)
    started = time.perf_counter()
    model = build_model(problem)
    pairs: PairIndex = model.pairs

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

    solution = solve_model(model, config)
    if solution.status == "infeasible":
        solution.message, solution.infeasible_item = _explain_infeasible(problem, config)
    solution.solve_seconds = time.perf_counter() - started
    return solution


def solve_model(model: pmo.block, config: SolverConfig) -> SplitSolution:
    """Run HiGHS on a built model, load values into its variables and read the split back."""
    translation = to_highs(model)
    highs = highspy.Highs()
    config.apply(highs)
    highs.passModel(translation.lp)
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    ms = highspy.HighsModelStatus
    if status == ms.kOptimal:
        label = "optimal"
    elif status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return SplitSolution(status="infeasible")
    elif status == ms.kTimeLimit:
        label = "time_limit"
    else:
        return SplitSolution(status="error", message=f"HiGHS ended with {highs.modelStatusToString(status)}")
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return SplitSolution(status=label, message="no feasible split found within the time limit")

    values = np.asarray(highs.getSolution().col_value)
    for variable, value in zip(translation.variables, values.tolist(), strict=True):
        variable.value = value
    return read_split(model, values, label, info.mip_gap)


def read_split(model: pmo.block, values: np.ndarray, status: str, mip_gap: float | None) -> SplitSolution:
    """Turn column values into names: per required item the pair with the largest x (ties of
    equal cost may come back fractional; any of them is optimal)."""
    pairs: PairIndex = model.pairs
    n_stores = len(model.store_open)
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
    highs = highspy.Highs()
    config.apply(highs)
    highs.passModel(translation.lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return []
    covered = np.asarray(highs.getSolution().col_value)[n_stores:]
    return [need for need, value in zip(pairs.needs, covered.tolist(), strict=True) if value < 0.5]
