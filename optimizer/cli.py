"""``smartcart optimize``: solve a split from a JSON problem or an OR-Library file (prints JSON),
or a shopping basket against the catalog mart's current prices (``--basket``; prints per-store
lists, or JSON with ``--json``).

Exit codes: 0 optimal, 1 solved but not optimal (infeasible, time limit; the status JSON is still
printed), 2 malformed input or usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from optimizer.data import ProblemError, read_orlib, read_problem_json
from optimizer.results import solution_to_json
from optimizer.solve import SolverConfig, solve


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr instead of usage + exit
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="smartcart optimize", description="Split a shopping list across stores.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--problem", metavar="FILE.json", help="problem in the generic JSON format")
    source.add_argument("--orlib", metavar="FILE", help="OR-Library uncapacitated facility location file")
    source.add_argument(
        "--basket",
        metavar="FILE.json",
        help="shopping basket (product ids, quantities, substitutes, postcode, retailers, radius_km, "
        "max_stores) priced from the catalog mart",
    )
    parser.add_argument("--json", action="store_true", help="with --basket: print the result as JSON")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds (default: from config)")
    return parser


def main(argv: list[str]) -> int:
    """Run ``optimize`` with ``argv`` (with or without the leading ``optimize`` word)."""
    args_list = list(argv)
    if args_list[:1] == ["optimize"]:
        args_list = args_list[1:]
    try:
        args = _parser().parse_args(args_list)
        if args.basket:
            return _basket_main(args)
        problem = read_problem_json(args.problem) if args.problem else read_orlib(args.orlib)
    except (_UsageError, ProblemError) as exc:
        print(f"smartcart optimize: error: {exc}", file=sys.stderr)
        return 2
    solution = solve(problem, time_limit=args.time_limit)
    print(json.dumps(solution_to_json(problem, solution)))
    return 0 if solution.is_optimal else 1


def read_basket(path: str):
    """Parse and validate a basket JSON file; ProblemError with every validation problem named."""
    from pydantic import ValidationError

    from optimizer.shopping import BasketRequest

    try:
        obj = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ProblemError(f"cannot read basket file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        return BasketRequest.model_validate(obj)
    except ValidationError as exc:
        raise ProblemError(f"{path}: {validation_summary(exc)}") from None


def validation_summary(exc) -> str:
    """One line per pydantic error: ``items.0.quantity: Input should be greater than or equal to 1``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'basket'}: {err['msg']}" for err in exc.errors()
    )


def _basket_main(args: argparse.Namespace) -> int:
    import psycopg

    from optimizer.catalog import APP_ROLE, load_snapshot
    from optimizer.shopping import BasketError, format_result, optimize_basket
    from warehouse.platform.config import ConfigurationError, Settings

    request = read_basket(args.basket)
    try:
        url = Settings.from_env().database_url("catalog", APP_ROLE)
        with psycopg.connect(url) as conn:
            snapshot = load_snapshot(conn, request.product_keys())
    except (ConfigurationError, psycopg.OperationalError) as exc:
        print(
            f"smartcart optimize: error: cannot read the catalog ({str(exc).strip().splitlines()[0]}); "
            "start it with `smartcart db start` and build the mart with `smartcart demo`",
            file=sys.stderr,
        )
        return 2
    except RuntimeError as exc:  # e.g. the embedded cluster is not running
        print(f"smartcart optimize: error: {exc}", file=sys.stderr)
        return 2
    if not snapshot.stores:
        print(
            "smartcart optimize: error: the catalog has no stores: run `smartcart demo` first",
            file=sys.stderr,
        )
        return 2
    config = SolverConfig.from_env()
    if args.time_limit is not None:
        config = dataclasses.replace(config, time_limit=args.time_limit)
    try:
        result = optimize_basket(request, snapshot, config=config)
    except BasketError as exc:
        print(f"smartcart optimize: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0 if result["status"] == "optimal" else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
