"""The `smartcart` command: demo, db, ui, market, optimize, serve, delivery, docs, dbt."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from orchestration.run_reports import failure_messages
from warehouse.platform.config import ConfigurationError, Settings


def _date(value: str | None):
    import datetime as dt

    return dt.date.fromisoformat(value) if value else None


def _print(message: str = "") -> None:
    print(message, flush=True)


# --- demo -------------------------------------------------------------------------------
@contextlib.contextmanager
def _exclusive(settings: Settings, name: str):
    """One `smartcart demo` at a time per SMARTCART_HOME: a second one waits."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / f"{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _print(f"another `smartcart {name}` is running on {settings.home}; waiting for it to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run_catalog_pipeline(
    settings: Settings,
    market_url: str,
    scrape_date: str | None = None,
    retailers: list[str] | None = None,
):
    """Run the catalog_pipeline job through Dagster, recorded in smartcart_dagster.

    The scraping assets are partitioned by day: ``scrape_date`` (default today) is the partition.
    ``retailers`` defaults to freshmart alone; ``smartcart demo`` passes every retailer.
    """
    from orchestration.dagster_instance import prepare_dagster_env

    prepare_dagster_env(settings)
    import datetime as dt

    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.jobs import catalog_pipeline_selection, crawl_sites_run_config

    job = defs.resolve_job_def("catalog_pipeline")
    run_config = {
        **crawl_sites_run_config(market_url),
        # The console shows warnings only; every event is still stored and shown in the UI.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    with dg.DagsterInstance.get() as instance:
        partition_key = scrape_date or dt.datetime.now(dt.UTC).date().isoformat()
        return job.execute_in_process(
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
            partition_key=partition_key,
            asset_selection=catalog_pipeline_selection(list(retailers or ["freshmart"])),
        )


def summarise_run(result) -> dict:
    """Pull the figures for the demo summary out of a finished Dagster run."""
    materialized = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        materialized["/".join(mat.asset_key.path)] = {k: v.value for k, v in mat.metadata.items()}
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    dbt_models = [
        k
        for k in materialized
        if not k.startswith("catalog_raw/") and k not in ("sample_basket_split", "catalog_delivery")
    ]
    return {
        "success": result.success,
        "materialized": materialized,
        "dbt_models": dbt_models,
        "checks_passed": sum(1 for c in checks if c.passed),
        # A failed check with WARN severity is a warning (shown in the UI); ERROR ones block.
        "checks_failed": [c.check_name for c in checks if not c.passed and c.severity.value == "ERROR"],
        "checks_warned": [c.check_name for c in checks if not c.passed and c.severity.value != "ERROR"],
    }


def cmd_demo(args: argparse.Namespace) -> int:
    from scrapers.demo_market import launch
    from warehouse.platform.bootstrap import bootstrap

    settings = Settings.from_env()
    started = time.monotonic()
    with _exclusive(settings, "demo"):
        report = bootstrap(settings)
        _print(f"[1/3] databases ready (embedded cluster on 127.0.0.1:{report.port}, home {settings.home})")
        with launch(
            seed=args.seed, products=args.products, stores=args.stores, date=_date(args.date)
        ) as market:
            _print(
                f"[2/3] demo market serving {args.products} products x {args.stores} stores at {market.base_url}"
            )
            result = run_catalog_pipeline(
                settings, market.base_url, args.date, retailers=args.retailers.split(",")
            )
        _print("[3/3] demo market stopped; the cluster keeps running (`smartcart db stop` stops it)")
    summary = summarise_run(result)
    m = summary["materialized"]
    if not summary["success"]:
        _print("\nThe catalog pipeline FAILED:")
        for message in failure_messages(result):
            _print(f"  - {message}")
        _print(f"See the run in the UI (`smartcart ui`), run id {result.run_id}.")
        return 1
    split = m.get("sample_basket_split", {}).get("split", {})
    basket_items = sum(len(store["items"]) for store in split.get("stores", []))
    delivery = m.get("catalog_delivery", {})
    _print(f"\nSmartCart demo finished in {time.monotonic() - started:.0f}s (Dagster run {result.run_id})")
    _print(
        f"  rows scraped:      {m['catalog_raw/price_observations']['rows']} prices, "
        f"{m['catalog_raw/stores']['rows']} stores, {m['catalog_raw/rejected_items']['rows']} rejected"
    )
    _print(
        f"  dbt + quality:     {len(summary['dbt_models'])} models built; checks (dbt tests, GX suites): "
        f"{summary['checks_passed']} passed, {len(summary['checks_failed'])} failed, "
        f"{len(summary['checks_warned'])} warned"
    )
    _print(
        f"  sample basket:     {basket_items} items, "
        f"split over {len(split.get('stores', []))} stores (K={split.get('max_stores', '?')})"
    )
    for store in split.get("stores", []):
        _print(f"     {store['store']}: {len(store['items'])} items, subtotal {store['subtotal']:.2f}")
    if split.get("best_single_total") is not None:
        _print(
            f"     split total {split['total']:.2f} (incl. {split['visit_total']:.2f} travel) vs best single store "
            f"{split['best_single_total']:.2f} ({split['best_single_store']}): saving {split['saving']:.2f}"
        )
    _print(
        f"  delivery:          {delivery.get('path')} ({delivery.get('files')} files, {delivery.get('rows')} rows)"
    )
    _print(f"                     verify it with: smartcart delivery verify {delivery.get('path')}")
    if args.shoppers > 0:  # the trends side: simulated shoppers -> vault -> ingestion -> trends mart
        from orchestration.demo.trends import demo_trends

        with _exclusive(settings, "demo"):
            if not demo_trends(settings, users=args.shoppers, seed=args.seed, say=_print):
                return 1
    return 0


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
    cmd = [dagster, "dev", "-m", "orchestration.definitions", "-h", args.host, "-p", str(args.port)]
    _print(f"Dagster UI on http://{args.host}:{args.port} (webserver + daemon; storage in smartcart_dagster)")
    try:
        return subprocess.call(
            cmd, env=env, cwd=settings.home.parent if settings.home.parent.exists() else None
        )
    except KeyboardInterrupt:
        return 0
    finally:
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

    demo = sub.add_parser("demo", help="run the whole catalog pipeline once against the demo market")
    demo.add_argument("--products", type=int, default=200)
    demo.add_argument("--stores", type=int, default=3)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--date", default=None, help="scrape date YYYY-MM-DD (default: today)")
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
