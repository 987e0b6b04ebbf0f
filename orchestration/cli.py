"""The `smartcart` command: demo, db, ui, market, optimize, serve, delivery, docs, dbt."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from warehouse.platform.config import ConfigurationError, Settings


def _date(value: str | None):
    import datetime as dt

    return dt.date.fromisoformat(value) if value else None


def _print(message: str = "") -> None:
    print(message, flush=True)


# --- demo -------------------------------------------------------------------------------
# The demo runner lives in orchestration/demo/runner.py; runs are submitted by orchestration/runs.py.
from orchestration.demo.runner import exclusive as _exclusive  # noqa: E402,F401
from orchestration.demo.runner import summarise_run  # noqa: E402,F401
from orchestration.runs import DEFINITIONS_MODULE, run_catalog_pipeline  # noqa: E402,F401


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.demo.runner import cmd_demo as run_demo

    return run_demo(args)


# --- ui / market ------------------------------------------------------------------------
def cmd_ui(args: argparse.Namespace) -> int:
    from orchestration.dagster_instance import prepare_dagster_env
    from orchestration.defs.dbt.project import prepare_manifest
    from warehouse.platform.bootstrap import bootstrap

    settings = Settings.from_env()
    bootstrap(settings)
    prepare_manifest()  # `dagster dev` re-prepares on reload too (DbtProject.prepare_if_dev)
    env = {**os.environ, **prepare_dagster_env(settings)}
    market = None
    if not args.no_market:
        from scrapers.demo_market import launch

        market = launch(seed=42, products=args.products, stores=args.stores)
        env["SMARTCART_MARKET_URL"] = market.base_url
        _print(f"demo market at {market.base_url} (the scraping asset crawls it by default)")
    dagster = str(Path(sys.executable).with_name("dagster"))
    cmd = [dagster, "dev", "-m", DEFINITIONS_MODULE, "-h", args.host, "-p", str(args.port)]
    _print(f"Dagster UI on http://{args.host}:{args.port} (webserver + daemon; storage in smartcart_dagster)")
    from orchestration.runs import raise_keyboard_interrupt, stop_process_group

    # `dagster dev` runs in a process group of its own, with the webserver, daemon, code servers and
    # run workers it starts: on Ctrl-C or SIGTERM the whole group is stopped (SIGTERM, then SIGKILL
    # after a grace period), so nothing outlives `smartcart ui`.
    previous = signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    dev = None
    try:
        dev = subprocess.Popen(
            cmd,
            env=env,
            cwd=settings.home.parent if settings.home.parent.exists() else None,
            start_new_session=True,
        )
        return dev.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if dev is not None:
            stop_process_group(dev, timeout=30.0)
        signal.signal(signal.SIGTERM, previous)
        if market:
            market.stop()


def cmd_market(args: argparse.Namespace) -> int:
    from scrapers.demo_market import launch

    with launch(seed=args.seed, products=args.products, stores=args.stores, date=_date(args.date)) as market:
        _print(f"demo market serving at {market.base_url} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


# --- optimize ----------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    """The optimizer HTTP service (product search, basket splits); OpenAPI at /docs."""
    from optimizer.service.app import serve
    from warehouse.platform.bootstrap import bootstrap

    bootstrap(Settings.from_env())  # cluster up, migrations and grants applied (idempotent)
    _print(f"SmartCart optimizer API on http://{args.host}:{args.port} (OpenAPI: /docs)")
    serve(host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartcart", description="SmartCart grocery price data platform")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build a few days of history against the demo market, through Dagster")
    demo.add_argument("--days", type=int, default=14, help="days of history to backfill (ending on --date)")
    demo.add_argument("--products", type=int, default=60)
    demo.add_argument("--stores", type=int, default=3)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--date", default=None, help="last day of history YYYY-MM-DD (default: today, UTC)")
    demo.add_argument(
        "--retailers",
        default=",".join(__import__("scrapers.retailers", fromlist=["DEMO_RETAILERS"]).DEMO_RETAILERS),
        help="comma-separated retailers to crawl (default: the demo market's, from scrapers/registry/)",
    )
    demo.add_argument("--shoppers", type=int, default=150, help="simulated app shoppers for trends (0: skip)")
    demo.set_defaults(func=cmd_demo)

    __import__("warehouse.platform.db_cli", fromlist=["add_parser"]).add_parser(sub)  # smartcart db ...

    ui = sub.add_parser("ui", help="Dagster webserver + daemon on the SmartCart code location")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--no-market", action="store_true", help="do not start the demo market alongside")
    ui.add_argument("--products", type=int, default=200)
    ui.add_argument("--stores", type=int, default=3)
    ui.set_defaults(func=cmd_ui)

    market = sub.add_parser("market", help="serve the demo market in the foreground")
    market.add_argument("--products", type=int, default=200)
    market.add_argument("--stores", type=int, default=3)
    market.add_argument("--seed", type=int, default=42)
    market.add_argument("--date", default=None)
    market.set_defaults(func=cmd_market)

    optimize = sub.add_parser(
        "optimize", help="split a shopping list across stores (see `smartcart optimize -h`)", add_help=False
    )
    optimize.add_argument("rest", nargs=argparse.REMAINDER)
    optimize.set_defaults(func=lambda a: __import__("optimizer.cli", fromlist=["main"]).main(a.rest))

    serve = sub.add_parser("serve", help="the optimizer HTTP service for apps (search, optimize)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    # smartcart delivery verify|apply|ship, smartcart docs, smartcart dbt ...
    __import__("orchestration.defs.deliveries.cli", fromlist=["add_parsers"]).add_parsers(sub)

    __import__("warehouse.vault.cli", fromlist=["add_parser"]).add_parser(sub)  # smartcart users ...
    __import__("scrapers.retailers_cli", fromlist=["add_parser"]).add_parser(sub)  # smartcart retailers ...
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["optimize"]:  # argparse's REMAINDER does not capture leading --options
        from optimizer.cli import main as optimize_main

        return optimize_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigurationError as exc:
        print(f"smartcart: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if type(exc).__name__ in ("ClusterError", "MigrationError", "CrawlFailed", "DeliveryError"):
            print(f"smartcart: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
