"""``smartcart optimize``: solve a split from a JSON problem or an OR-Library file, print JSON.

Exit codes: 0 optimal, 1 solved but not optimal (infeasible, time limit; the status JSON is still
printed), 2 malformed input or usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys

from optimizer.data import ProblemError, read_orlib, read_problem_json
from optimizer.results import solution_to_json
from optimizer.solve import solve


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
    parser.add_argument("--time-limit", type=float, default=None, help="seconds (default: from config)")
    return parser


def main(argv: list[str]) -> int:
    """Run ``optimize`` with ``argv`` (with or without the leading ``optimize`` word)."""
    args_list = list(argv)
    if args_list[:1] == ["optimize"]:
        args_list = args_list[1:]
    try:
        args = _parser().parse_args(args_list)
        problem = read_problem_json(args.problem) if args.problem else read_orlib(args.orlib)
    except (_UsageError, ProblemError) as exc:
        print(f"smartcart optimize: error: {exc}", file=sys.stderr)
        return 2
    solution = solve(problem, time_limit=args.time_limit)
    print(json.dumps(solution_to_json(problem, solution)))
    return 0 if solution.is_optimal else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
