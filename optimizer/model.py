"""The store-split model as a Pyomo (kernel) block: variables, constraints, objective. No I/O.

Strong UFLP formulation over stocked (item option, store) pairs only:

    min   sum_s f_s y_s + sum_p c_p x_p
    s.t.  sum_{p serves need n} x_p = 1        for every required item n       (``assign``)
          x_p <= y_{store(p)}                   for every stocked pair p          (``link``)
          sum_s y_s <= K                        if max_stores is set              (``store_limit``)
          sum_s f_s y_s + sum_p c_p x_p <= B    if budget is set                  (``budget``)
          y binary, 0 <= x <= 1

x may stay continuous: once y is fixed the remaining problem is a min-cost choice per item (the
budget row is the objective itself, so it only decides feasibility), whose optimum is integral.

Why pyomo.kernel with ``matrix_constraint``: building 100k linking rows as Pyomo expressions and
compiling them back to a matrix costs several seconds on OR-Library ``capa`` (measured: ~1.3 s to
construct, ~2.6 s for the standard-form compiler), twice the HiGHS solve itself. A kernel
``matrix_constraint`` is still a Pyomo constraint block (rows with bodies, bounds, duals), but it
keeps its coefficients as a sparse matrix, so the model is built in numpy time and translated to
HiGHS without walking expressions (see ``optimizer.solve``). The objective follows the same idea
(``linear_objective``). What remains is Pyomo's per-object cost for 100k variables and rows,
~0.4 s on capa against a ~2 s HiGHS solve (benchmarks/optimizer_benchmark.py: ratio ~1.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.kernel as pmo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.kernel.matrix_constraint import matrix_constraint

from optimizer.data import SplitProblem


class linear_objective(pmo.objective):  # noqa: N801 -- named like the kernel classes it extends
    """A kernel objective ``sum_k coefficients[k] * variables[k]`` kept as arrays.

    The same idea as ``matrix_constraint`` applied to the objective: the expression tree (one
    monomial node per term, ~0.2 s for capa's 100k terms) is built only when something reads
    ``expr``; solvers that understand the arrays (``optimizer.solve.to_highs``) never build it.
    Assigning ``expr`` replaces the arrays with that expression, as on a plain objective.
    """

    __slots__ = ("coefficients", "variables", "_built_expr")

    def __init__(self, coefficients, variables, sense=pmo.minimize):
        self._built_expr = None
        super().__init__(expr=None, sense=sense)
        self.coefficients = np.asarray(coefficients, dtype=float)
        self.coefficients.setflags(write=False)
        self.variables = tuple(variables)
        if len(self.coefficients) != len(self.variables):
            raise ValueError("linear_objective needs one coefficient per variable")

    @property
    def _expr(self):
        if self._built_expr is None and getattr(self, "variables", None) is not None:
            self._built_expr = LinearExpression(
                linear_coefs=self.coefficients.tolist(), linear_vars=self.variables
            )
        return self._built_expr

    @_expr.setter
    def _expr(self, expr):
        self._built_expr = expr
        if expr is not None:
            self.coefficients = self.variables = None


@dataclass(frozen=True)
class PairIndex:
    """Which need, product and store each ``buy`` variable stands for (all arrays of length P)."""

    needs: list[str]  # required items, in row order of ``assign``
    pair_need: np.ndarray  # index into ``needs``
    pair_product: np.ndarray  # index into problem.items (the product actually bought)
    pair_store: np.ndarray  # index into problem.stores
    pair_cost: np.ndarray
    items: list[str]
    stores: list[str]
    store_cost: list[float]


def stocked_pairs(problem: SplitProblem) -> PairIndex:
    """Every (need, option, store) where the option is stocked, grouped by need (row-major)."""
    needs = problem.required_items
    item_index = {item: i for i, item in enumerate(problem.items)}
    if problem.substitutes:
        option_need = []
        option_product = []
        for k, need in enumerate(needs):
            for product in problem.options(need):
                option_need.append(k)
                option_product.append(item_index[product])
        option_need = np.asarray(option_need, dtype=np.int64)
        option_product = np.asarray(option_product, dtype=np.int64)
        option_cost = problem.cost_array[option_product]
    else:
        option_need = option_product = np.arange(len(needs), dtype=np.int64)
        option_cost = problem.cost_array
    rows, stores = np.nonzero(~np.isnan(option_cost))
    return PairIndex(
        needs=needs,
        pair_need=option_need[rows],
        pair_product=option_product[rows],
        pair_store=stores.astype(np.int64),
        pair_cost=option_cost[rows, stores],
        items=list(problem.items),
        stores=list(problem.stores),
        store_cost=[float(c) for c in problem.store_cost],
    )


@dataclass(frozen=True)
class SplitMatrices:
    """The split model as arrays: columns ``store_open`` (binary) then ``buy`` (one per pair, in
    [0, 1]); named row blocks ``(name, A, lower, upper)`` (lower None: ``<= upper``; lower is
    upper: ``= upper``) and the objective. ``build_model`` wraps them into Pyomo kernel
    components; ``optimizer.solve.highs_lp`` hands them to HiGHS directly (the batch path)."""

    pairs: PairIndex
    n_stores: int
    rows: list[tuple[str, sp.csr_matrix, np.ndarray | None, np.ndarray]]
    objective: np.ndarray

    @property
    def n_cols(self) -> int:
        return self.n_stores + len(self.pairs.pair_store)


def split_matrices(problem: SplitProblem) -> SplitMatrices:
    """Rows and objective of the split model (see the module docstring), built in numpy."""
    pairs = stocked_pairs(problem)
    n_stores, n_pairs, n_needs = len(problem.stores), len(pairs.pair_store), len(pairs.needs)
    n_cols = n_stores + n_pairs
    store_cost = np.asarray(problem.store_cost, dtype=float)
    buy_cols = np.arange(n_stores, n_cols, dtype=np.int64)
    rows: list[tuple[str, sp.csr_matrix, np.ndarray | None, np.ndarray]] = []

    # assign: pairs are grouped by need, so row n covers a contiguous run of buy columns.
    starts = np.zeros(n_needs + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs.pair_need, minlength=n_needs), out=starts[1:])
    assign = sp.csr_matrix((np.ones(n_pairs), buy_cols, starts), shape=(n_needs, n_cols))
    ones = np.ones(n_needs)
    rows.append(("assign", assign, ones, ones))

    if n_pairs:
        link_cols = np.empty(2 * n_pairs, dtype=np.int64)
        link_cols[0::2] = buy_cols
        link_cols[1::2] = pairs.pair_store
        link_vals = np.empty(2 * n_pairs)
        link_vals[0::2] = 1.0
        link_vals[1::2] = -1.0
        link = sp.csr_matrix(
            (link_vals, link_cols, np.arange(0, 2 * n_pairs + 1, 2)), shape=(n_pairs, n_cols)
        )
        rows.append(("link", link, None, np.zeros(n_pairs)))

    if problem.max_stores is not None:
        limit = sp.csr_matrix((np.ones(n_stores), np.arange(n_stores), [0, n_stores]), shape=(1, n_cols))
        rows.append(("store_limit", limit, None, np.array([float(problem.max_stores)])))

    objective = np.concatenate([store_cost, pairs.pair_cost])
    if problem.budget is not None:
        rows.append(
            ("budget", sp.csr_matrix(objective.reshape(1, -1)), None, np.array([float(problem.budget)]))
        )
    return SplitMatrices(pairs=pairs, n_stores=n_stores, rows=rows, objective=objective)


def build_model(problem: SplitProblem, matrices: SplitMatrices | None = None) -> pmo.block:
    """Build the split model. Columns: ``store_open`` (one per store) then ``buy`` (one per pair)."""
    matrices = matrices or split_matrices(problem)
    pairs = matrices.pairs
    model = pmo.block()
    model.store_open = pmo.variable_list(pmo.variable(domain=pmo.Binary) for _ in range(matrices.n_stores))
    model.buy = pmo.variable_list(pmo.variable(lb=0, ub=1) for _ in range(len(pairs.pair_store)))
    columns = (*model.store_open, *model.buy)
    for name, a, lower, upper in matrices.rows:
        if lower is upper:
            block = matrix_constraint(a, rhs=upper, x=columns)
        else:
            block = matrix_constraint(a, lb=lower, ub=upper, x=columns)
        setattr(model, name, block)
    model.total_cost = linear_objective(matrices.objective, columns, sense=pmo.minimize)
    # Plain attribute (not a Pyomo component): result shaping needs to map columns back to names.
    model.pairs = pairs
    return model
