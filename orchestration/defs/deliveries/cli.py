"""`smartcart delivery ...`, `smartcart docs` and `smartcart dbt ...`: buyers' and analysts' commands.

Registered in orchestration/cli.py with `add_parsers(sub)`. Database settings come from the
one resolver (warehouse.platform.config.Settings) and reach dbt through its environment, never argv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def _print(message: str = "") -> None:
    print(message, flush=True)


def cmd_verify(args: argparse.Namespace) -> int:
    from warehouse.publishing.deliveries import verify_delivery
    from warehouse.publishing.deliveries.storage import Location

    problems = verify_delivery(args.path)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}", file=sys.stderr)
        return 1
    manifest = json.loads(Location.of(args.path).read_text("manifest.json"))
    rows = sum(t["rows"] for t in manifest.get("tables", []))
    _print(
        f"OK {args.path}: {len(manifest['files'])} files, {rows} rows;"
        " every file is in the manifest and every checksum, row count and schema matches"
    )
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from warehouse.publishing.deliveries import DeliveryError
    from warehouse.publishing.deliveries.apply import apply_delta

    try:
        out = apply_delta(args.delta, args.snapshot, Path(args.out))
    except DeliveryError as exc:
        print(f"smartcart delivery apply: {exc}", file=sys.stderr)
        return 1
    _print(f"OK {out}: the snapshot after {args.delta}; check it with: smartcart delivery verify {out}")
    return 0


def cmd_ship(args: argparse.Namespace) -> int:
    """Ship a delivery by hand, behind the same gate as the Dagster asset (verdicts from the event log)."""
    import datetime as dt

    import dagster as dg

    from orchestration.dagster_instance import prepare_dagster_env
    from orchestration.defs.dbt.project import dbt_project
    from orchestration.defs.deliveries.assets import PRODUCTS
    from orchestration.defs.quality.gate import QualityGateFailed, read_verdicts
    from warehouse.platform.config import Settings
    from warehouse.publishing.deliveries import delivery_tables, verify_delivery, write_delivery
    from warehouse.publishing.deliveries.storage import delivery_destination
    from warehouse.publishing.quality.reports import privacy_problems

    settings = Settings.from_env()
    prepare_dagster_env(settings)
    with dg.DagsterInstance.get() as instance:
        try:
            read_verdicts(instance, args.product)
            if args.product == "trends" and (problems := privacy_problems(settings)):
                raise QualityGateFailed(
                    "trends delivery blocked by the privacy scan: " + " | ".join(problems)
                )
        except QualityGateFailed as exc:
            print(f"smartcart delivery ship: {exc}", file=sys.stderr)
            return 1
    database, role = PRODUCTS[args.product]
    day = dt.date.fromisoformat(args.day) if args.day else None
    path = write_delivery(
        settings.database_url(database, role),
        args.product,
        delivery_tables(dbt_project.manifest_path, args.product),
        args.to or delivery_destination(settings),
        kind=args.kind,
        day=day,
        k_threshold=settings.k_threshold,
    )
    problems = verify_delivery(path)
    if problems:
        print("\n".join(f"FAIL {p}" for p in problems), file=sys.stderr)
        return 1
    _print(f"OK {path}")
    return 0


def _dbt_environment() -> dict[str, str]:
    """Every variable profiles.yml reads, for both targets, from the running embedded cluster (or the URLs)."""
    from orchestration.defs.dbt.project import dbt_env
    from warehouse.platform.bootstrap import bootstrap
    from warehouse.platform.config import Settings

    settings = Settings.from_env()
    bootstrap(settings)  # cluster up, migrations and grants applied (idempotent)
    return {**os.environ, **dbt_env(settings)}


def _run_dbt(arguments: list[str], env: dict[str, str]) -> int:
    from orchestration.defs.dbt.project import DBT_PROJECT_DIR, dbt_executable

    command = [
        dbt_executable(),
        *arguments,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    return subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR).returncode


def cmd_dbt(args: argparse.Namespace) -> int:
    """Any dbt command against SmartCart's databases, e.g. `smartcart dbt build --target catalog`."""
    if not args.rest:
        print(
            "smartcart dbt: give a dbt command, e.g. `smartcart dbt build --select tag:catalog`",
            file=sys.stderr,
        )
        return 2
    return _run_dbt(args.rest, _dbt_environment())


def cmd_docs(args: argparse.Namespace) -> int:
    """Generate the dbt docs (both targets' catalogs merged by dbt into one site) and serve them."""
    env = _dbt_environment()
    code = _run_dbt(["docs", "generate", "--target", args.target], env)
    if code != 0 or args.generate_only:
        return code
    _print(f"dbt docs on http://{args.host}:{args.port} (Ctrl-C stops)")
    return _run_dbt(
        [
            "docs",
            "serve",
            "--target",
            args.target,
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--no-browser",
        ],
        env,
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    delivery = sub.add_parser("delivery", help="buyer tools for deliveries: verify, apply, ship")
    actions = delivery.add_subparsers(dest="action", required=True)
    verify = actions.add_parser(
        "verify", help="check every file of a delivery (folder or URL) against its manifest"
    )
    verify.add_argument("path", help="a delivery folder, or a URL such as s3://bucket/catalog/<id>")
    verify.set_defaults(func=cmd_verify)
    apply = actions.add_parser("apply", help="apply a delta to a snapshot, giving the next snapshot")
    apply.add_argument("delta")
    apply.add_argument("snapshot")
    apply.add_argument("--out", required=True, help="a new folder for the resulting snapshot")
    apply.set_defaults(func=cmd_apply)
    ship = actions.add_parser("ship", help="ship a delivery by hand (after the quality gate)")
    ship.add_argument("product", choices=["catalog", "trends"])
    ship.add_argument("--kind", choices=["snapshot", "delta"], default="snapshot")
    ship.add_argument("--day", help="the day of a delta (YYYY-MM-DD)")
    ship.add_argument(
        "--to",
        help="where to (a folder or fsspec URL such as s3://bucket/prefix; credentials from the environment);"
        " default SMARTCART_DELIVERY_URL, else SMARTCART_HOME/deliveries",
    )
    ship.set_defaults(func=cmd_ship)

    docs = sub.add_parser("docs", help="generate and serve the dbt docs (no variables to set)")
    docs.add_argument("--target", default="catalog", choices=["catalog", "behavior"])
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8080)
    docs.add_argument("--generate-only", action="store_true", help="write target/ and stop")
    docs.set_defaults(func=cmd_docs)

    dbt = sub.add_parser(
        "dbt", help="run dbt with SmartCart's connection settings, e.g. `smartcart dbt build`"
    )
    dbt.add_argument("rest", nargs=argparse.REMAINDER)
    dbt.set_defaults(func=cmd_dbt)
