"""What a solve is asked and what it answers: HiGHS settings, the solution, the error.

Kept apart from ``optimizer.solve`` so that code which only carries solutions (the shopper API's
models, the batch's rows, Dagster's code location) does not import Pyomo, SciPy and HiGHS, which
cost seconds at every process start; ``optimizer.solve`` imports them when a solve happens.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import highspy


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
    # Solve the LP relaxation first and accept it when the store choice is integral (proven
    # optimal, see ``_run_highs``); False always runs HiGHS' MIP solver.
    lp_first: bool = True

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
        # Every option is set on every call: a reused instance keeps the previous call's options.
        highs.setOptionValue("output_flag", self.log)
        highs.setOptionValue("mip_rel_gap", self.mip_rel_gap)
        highs.setOptionValue("time_limit", math.inf if self.time_limit is None else float(self.time_limit))
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
