"""Optimizer speed: on-demand latency, batch throughput, and Pyomo overhead against raw highspy.

Run: ``.venv/bin/python benchmarks/optimizer_benchmark.py [--solves 200] [--batch 400] [--capa-reps 3]``

(a) on demand: 50 items x 30 stores, K=3, realistic random prices; latency of ``solve`` (model
    build + translation + HiGHS + read-back) over many solves, p50/p95.
(b) batch: the same size of basket, a process pool of 2 workers, baskets per second (solve +
    summary), pool start-up excluded.
(c) OR-Library capa (100 stores x 1000 items): raw highspy on the same formulation (same columns,
    rows, order and HiGHS options, built straight from numpy) against the Pyomo path; the target is
    a ratio <= 1.3. Runs alternate so machine load hits both alike; the median is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import highspy
import numpy as np

from optimizer.basket import summarise_split
from optimizer.data import SplitProblem, read_orlib
from optimizer.solve import SolverConfig, solve

ORLIB_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "orlib"


def realistic_basket(
    seed: int, n_items: int = 50, n_stores: int = 30, max_stores: int | None = 3
) -> SplitProblem:
    """Shelf prices: a base price per product, a store price level, per-shelf noise, gaps."""
    rng = np.random.default_rng(seed)
    base = np.round(np.exp(rng.normal(1.0, 0.8, n_items)), 2).clip(0.3, 25.0)
    level = rng.uniform(0.85, 1.15, n_stores)
    noise = rng.uniform(0.9, 1.1, (n_items, n_stores))
    quantity = rng.integers(1, 4, n_items)
    prices = np.round(base[:, None] * level[None, :] * noise, 2) * quantity[:, None]
    stocked = rng.random((n_items, n_stores)) > 0.15
    stocked[:, 0] = True  # one hypermarket stocks everything, so every list is buyable
    cost = [
        [float(p) if ok else None for p, ok in zip(row, mask, strict=True)]
        for row, mask in zip(prices, stocked, strict=True)
    ]
    return SplitProblem(
        items=[f"product{i}" for i in range(n_items)],
        stores=[f"store{s}" for s in range(n_stores)],
        cost=cost,
        store_cost=np.round(rng.uniform(2.0, 5.0, n_stores), 2).tolist(),
        max_stores=max_stores,
    )


def solve_and_summarise(problem: SplitProblem) -> float:
    solution = solve(problem, config=SolverConfig())
    return summarise_split(problem, solution)["total"]


def raw_highspy_uflp(problem: SplitProblem) -> tuple[float, float]:
    """The same strong formulation straight from numpy into highspy: y then x (row-major stocked
    pairs); rows: assignment, then x - y <= 0. Returns (objective, seconds)."""
    started = time.perf_counter()
    cost = problem.cost_array
    n_items, n_stores = cost.shape
    items_idx, stores_idx = np.nonzero(~np.isnan(cost))
    n_pairs = len(items_idx)
    n_cols = n_stores + n_pairs
    x_cols = np.arange(n_stores, n_cols)
    assign_start = np.zeros(n_items + 1, dtype=np.int64)
    np.cumsum(np.bincount(items_idx, minlength=n_items), out=assign_start[1:])
    link_index = np.empty(2 * n_pairs, dtype=np.int64)
    link_index[0::2], link_index[1::2] = x_cols, stores_idx
    link_value = np.empty(2 * n_pairs)
    link_value[0::2], link_value[1::2] = 1.0, -1.0

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_items + n_pairs
    lp.col_cost_ = np.concatenate([problem.store_cost, cost[items_idx, stores_idx]])
    lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), np.ones(n_cols)
    lp.integrality_ = np.array(
        [highspy.HighsVarType.kInteger] * n_stores + [highspy.HighsVarType.kContinuous] * n_pairs
    )
    lp.row_lower_ = np.concatenate([np.ones(n_items), np.full(n_pairs, -np.inf)])
    lp.row_upper_ = np.concatenate([np.ones(n_items), np.zeros(n_pairs)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, lp.num_row_
    lp.a_matrix_.start_ = np.concatenate([assign_start, n_pairs + np.arange(2, 2 * n_pairs + 1, 2)]).astype(
        np.int32
    )
    lp.a_matrix_.index_ = np.concatenate([x_cols, link_index]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([np.ones(n_pairs), link_value])
    highs = highspy.Highs()
    SolverConfig().apply(highs)
    highs.passModel(lp)
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return highs.getInfo().objective_function_value, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solves", type=int, default=200)
    parser.add_argument("--batch", type=int, default=400)
    parser.add_argument("--capa-reps", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []

    problems = [realistic_basket(seed) for seed in range(args.solves)]
    solve(problems[0])  # warm imports
    latencies = []
    for problem in problems:
        started = time.perf_counter()
        solution = solve(problem, config=SolverConfig())
        latencies.append(time.perf_counter() - started)
        assert solution.is_optimal, solution.message
    rows.append(("(a) on demand 50x30 K=3: solves", f"{len(latencies)}"))
    rows.append(("(a) latency p50 (ms)", f"{1000 * percentile(latencies, 50):.1f}"))
    rows.append(("(a) latency p95 (ms)", f"{1000 * percentile(latencies, 95):.1f}"))

    batch = [realistic_basket(10_000 + seed) for seed in range(args.batch)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(solve_and_summarise, batch[:4]))  # start workers and warm imports
        started = time.perf_counter()
        totals = list(pool.map(solve_and_summarise, batch, chunksize=8))
        elapsed = time.perf_counter() - started
    assert all(t is not None for t in totals)
    rows.append(("(b) batch 50x30 K=3, 2 workers: baskets", f"{len(batch)}"))
    rows.append(("(b) baskets per second", f"{len(batch) / elapsed:.1f}"))

    capa_path = ORLIB_DIR / "capa.txt"
    if capa_path.exists():
        capa = read_orlib(capa_path)
        raw_times, pyomo_times = [], []
        for _ in range(args.capa_reps):
            raw_objective, raw_seconds = raw_highspy_uflp(capa)
            started = time.perf_counter()
            solution = solve(capa, config=SolverConfig())
            pyomo_times.append(time.perf_counter() - started)
            raw_times.append(raw_seconds)
            assert solution.is_optimal and abs(solution.objective - raw_objective) <= 1e-6 * raw_objective
        raw, pyo = statistics.median(raw_times), statistics.median(pyomo_times)
        rows.append(("(c) capa objective", f"{solution.objective:.3f} (published 17156454.478)"))
        rows.append(
            (
                "(c) capa raw highspy (s, median)",
                f"{raw:.3f}  runs: {', '.join(f'{t:.2f}' for t in raw_times)}",
            )
        )
        rows.append(
            (
                "(c) capa Pyomo path (s, median)",
                f"{pyo:.3f}  runs: {', '.join(f'{t:.2f}' for t in pyomo_times)}",
            )
        )
        per_run = [p / r for p, r in zip(pyomo_times, raw_times, strict=True)]
        rows.append(("(c) ratio of medians Pyomo / raw (target <= 1.3)", f"{pyo / raw:.2f}"))
        rows.append(
            (
                "(c) per-run ratios (median)",
                f"{', '.join(f'{x:.2f}' for x in per_run)} ({statistics.median(per_run):.2f})",
            )
        )
    else:
        rows.append(("(c) capa", f"skipped: {capa_path} not found"))

    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|-{'-' * 40}")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
