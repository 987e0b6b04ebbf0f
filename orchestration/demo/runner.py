"""`smartcart demo`: a demo with history, run through the Dagster instance as the UI would run it.

Stages (one console line each, progress as runs finish; run, dbt and GX logs go to a file):

1. the databases (embedded cluster) and the demo market;
2. a code server for the instance (``orchestration.runs``); a backfill of ``catalog_pipeline`` over
   the last N days (crawls, one dbt build over the window, the sample basket, the delivery), so the
   history features have rows, submitted before the daemon starts so that its first iteration
   launches it;
3. one crowd-report file and one Open Prices export, dropped before the daemon starts and loaded by
   the sensor's first tick while the backfill runs;
4. the backfill's steps and runs, printed as they finish;
5. the trends side: simulated shoppers, then a ``trends_pipeline`` run;
6. a summary naming the history tables' rows, every warning, and a query to paste into psql.

Services stop before the market, and "demo market stopped" is the last line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import re
import time
from pathlib import Path

import psycopg

from orchestration.run_reports import failure_messages
from orchestration.runs import DagsterServices, RunOutcome, quiet_console
from warehouse.platform.config import Settings

CATALOG_JOB = "catalog_pipeline"
STAGES = 6


def _print(message: str = "") -> None:
    print(message, flush=True)


@contextlib.contextmanager
def exclusive(settings: Settings, name: str):
    """One `smartcart demo` at a time per SMARTCART_HOME: a second one waits."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / f"{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _print(f"another `smartcart {name}` is running on {settings.home}; waiting for it to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def history_days(days: int, last_day: dt.date | None = None) -> list[str]:
    """The ``days`` partition keys ending on ``last_day`` (default today, UTC), oldest first."""
    last = last_day or dt.datetime.now(dt.UTC).date()
    return [(last - dt.timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


# Share of demo products whose pack shrinks once within the demo's history (the market's usual 6% a
# year would give a 14-day history about one event in ten demos: none to show).
DEMO_SHRINK_SHARE = 0.15


def demo_shrink(days: list[str], share: float = DEMO_SHRINK_SHARE) -> tuple[float, dt.date, int]:
    """The market's shrink setting for a demo over ``days``: shrink days spread over the history
    after its first day (a shrink needs a day before it to be seen), so the flag has events to find."""
    first = dt.date.fromisoformat(days[0])
    return share, first + dt.timedelta(days=1), max(1, len(days) - 1)


# --- summaries --------------------------------------------------------------------------
def summarise_run(result) -> dict:
    """Pull the figures for the demo summary out of finished Dagster run(s)."""
    materialized: dict[str, dict] = {}
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
        "checks_failed": [c for c in checks if not c.passed and c.severity.value == "ERROR"],
        "checks_warned": [c for c in checks if not c.passed and c.severity.value != "ERROR"],
    }


def describe_check(evaluation) -> str:
    """Which check, on which asset, and why: its description or the metadata that made it fail."""
    asset = "/".join(evaluation.asset_key.path)
    why = evaluation.description
    if not why:
        meta = {k: getattr(v, "value", v) for k, v in (evaluation.metadata or {}).items()}
        why = ", ".join(f"{k}={v}" for k, v in list(meta.items())[:4]) or "no details recorded"
    return f"{evaluation.check_name} on {asset}: {why}"


def scraped_rows(settings: Settings, days: list[str]) -> dict[str, int]:
    """Rows in raw for the demo's days (what the backfill landed; re-runs replace, never add)."""
    window = (dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1]))
    with psycopg.connect(settings.database_url("catalog")) as conn:
        return {
            table: conn.execute(
                f"select count(*) from raw.{table} where scrape_date between %s and %s", window
            ).fetchone()[0]
            for table in ("price_observations", "stores", "rejected_items")
        }


# What an analyst pastes into psql to see the history features (each query names its table).
HISTORY_QUERIES = {
    "price changes": "select count(*) from catalog.fct_price_changes",
    "fake promotions": "select count(*) from catalog.fct_promotions where is_fake_promotion",
    "promotions failing the Omnibus check": "select count(*) from catalog.fct_promotions where not is_genuine_discount",
    "shrinkflation events": "select count(*) from catalog.fct_price_changes where is_shrinkflation",
}
SPLIT_SAVINGS_QUERY = "select count(*) from trends.trends_split_savings"
ANALYST_QUERY = (
    "select change_date, retailer, previous_price, price, previous_package_quantity, package_quantity"
    " from catalog.fct_price_changes where is_shrinkflation order by change_date desc limit 10;"
)


def history_counts(settings: Settings) -> dict[str, int | str]:
    counts: dict[str, int | str] = {}
    with psycopg.connect(settings.database_url("catalog")) as conn:
        for name, query in HISTORY_QUERIES.items():
            counts[name] = conn.execute(query).fetchone()[0]
    try:
        with psycopg.connect(settings.database_url("behavior")) as conn:
            counts["split savings"] = conn.execute(SPLIT_SAVINGS_QUERY).fetchone()[0]
    except psycopg.errors.UndefinedTable:
        counts["split savings"] = "not built"
    return counts


# --- stages -----------------------------------------------------------------------------
def drop_crowd_reports(settings: Settings, products: int, stores: int, seed: int) -> list[Path]:
    """Drop one crowd-report file and one Open Prices export into the crowd drop folder.

    The demo drops them before the daemon starts: by the sensor's first tick they have settled
    (SMARTCART_DROP_SETTLE_SECONDS), so it loads them at once instead of one tick later."""
    from orchestration.demo.crowd_file import write_crowd_report_file, write_open_prices_export
    from scrapers.demo_market.catalogue import Catalogue
    from warehouse.landing.crowd_reports import dropzone_dir

    day = dt.datetime.now(dt.UTC).date()
    catalogue = Catalogue(seed, products, stores, day)
    return [
        write_crowd_report_file(dropzone_dir(settings), catalogue, day, seed=seed),
        write_open_prices_export(dropzone_dir(settings), catalogue, day, seed=seed),
    ]


def crowd_reports_loaded(services: DagsterServices, paths: list[Path]) -> str:
    """Wait for the sensor's runs to load the dropped files; returns the stage line."""
    return "crowd reports: " + "; ".join(_loaded_by_sensor(services, path.name) for path in paths)


def _loaded_by_sensor(services: DagsterServices, file_name: str) -> str:
    run = services.wait_for_tagged_run("smartcart/crowd_report_file", file_name, timeout=300)
    if run is None:
        return f"{file_name} dropped, but no sensor run picked it up in 300s (see the UI's Sensors tab)"
    outcome = services.outcome([run.run_id])
    meta = {}
    for event in outcome.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta.update({k: v.value for k, v in mat.metadata.items()})
    verdict = meta.get("status") or ("loaded" if outcome.success else "FAILED")
    return f"{file_name} -> sensor run {run.run_id[:8]}: {verdict}" + (
        f", {meta['reports']} reports" if "reports" in meta else ""
    )


def submit_history(services: DagsterServices, days: list[str], market_url: str, retailers: list[str]) -> str:
    """Submit the backfill of the catalog over ``days`` (before the daemon starts: its first
    iteration takes it up at once)."""
    from orchestration.defs.jobs import catalog_pipeline_selection, crawl_sites_run_config

    return services.submit_backfill(
        CATALOG_JOB,
        days,
        title=f"smartcart demo: {len(days)} days of history",
        # What the demo waits for: the queue launches it ahead of the crowd files' short runs.
        tags={"dagster/priority": "1"},
        run_config={**crawl_sites_run_config(market_url), **quiet_console()},
        asset_selection=[list(key.path) for key in catalog_pipeline_selection(retailers)],
    )


def wait_for_history(services: DagsterServices, backfill_id: str, submitted: float) -> RunOutcome:
    """Wait for the backfill's runs, printing each step and run as it finishes."""
    started, finished = submitted, []

    def progress(run) -> None:
        finished.append(run)
        tags = run.tags
        what = tags.get("dagster/partition") or (
            f"{tags.get('dagster/asset_partition_range_start')}..{tags.get('dagster/asset_partition_range_end')}"
            if "dagster/asset_partition_range_start" in tags
            else "unpartitioned"
        )
        steps = ", ".join(sorted({k.path[-1] for k in (run.asset_selection or [])}))[:70]
        _print(
            f"      run {len(finished)} {run.status.value.lower()} after {time.monotonic() - started:.0f}s: "
            f"{what} ({steps})"
        )

    def step(run_id: str, event) -> None:
        state = "done" if event.event_type_value == "STEP_SUCCESS" else "FAILED"
        _print(
            f"      step {event.step_key} {state} after {time.monotonic() - started:.0f}s (run {run_id[:8]})"
        )

    return services.wait_for_backfill(backfill_id, on_finish=progress, on_step=step)


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.demo.trends import demo_trends
    from scrapers.demo_market import launch
    from warehouse.platform.bootstrap import bootstrap

    settings = Settings.from_env()
    started = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = settings.home / "logs" / f"demo-{stamp}.log"
    days = history_days(args.days, dt.date.fromisoformat(args.date) if args.date else None)
    with exclusive(settings, "demo"):
        report = bootstrap(settings)
        _print(
            f"[1/{STAGES}] databases ready (embedded cluster on 127.0.0.1:{report.port}, home {settings.home})"
        )
        with launch(
            seed=args.seed, products=args.products, stores=args.stores, shrink=demo_shrink(days)
        ) as market:
            _print(
                f"[2/{STAGES}] demo market serving {args.products} products x {args.stores} stores "
                f"at {market.base_url}; run, dbt and GX logs go to {log_path}"
            )
            env = {"SMARTCART_MARKET_URL": market.base_url}
            crowd_files = drop_crowd_reports(settings, args.products, args.stores, args.seed)
            with DagsterServices(settings, log_path, daemon=True, env=env, defer_daemon=True) as services:
                backfill_id = submit_history(services, days, market.base_url, args.retailers.split(","))
                submitted = time.monotonic()
                services.start_daemon()
                _print(
                    f"[3/{STAGES}] Dagster code server and daemon started on the instance in smartcart_dagster; "
                    f"backfill {backfill_id} of {CATALOG_JOB} over {days[0]}..{days[-1]} submitted"
                )
                _print(f"[4/{STAGES}] " + crowd_reports_loaded(services, crowd_files))
                _print(
                    f"[5/{STAGES}] history: {len(days)} days of every retailer, backfilled through Dagster "
                    f"(backfill {backfill_id})"
                )
                history = wait_for_history(services, backfill_id, submitted)
                catalog_ok = print_catalog_summary(settings, history, backfill_id, days, log_path, started)
                trends_ok = True
                if catalog_ok and args.shoppers > 0:
                    _print(f"[6/{STAGES}] trends: {args.shoppers} simulated shoppers, then trends_pipeline")
                    trends_ok = demo_trends(
                        services, settings, users=args.shoppers, seed=args.seed, say=_print
                    )
                if catalog_ok:
                    print_history_summary(settings)
            _print(f"Dagster services stopped; see every run in the UI: smartcart ui (logs: {log_path})")
        _print(
            f"demo market stopped after {time.monotonic() - started:.0f}s; "
            "the cluster keeps running (`smartcart db stop` stops it)"
        )
    return 0 if catalog_ok and trends_ok else 1


def print_catalog_summary(
    settings: Settings, history: RunOutcome, backfill_id: str, days: list[str], log_path: Path, started: float
) -> bool:
    summary = summarise_run(history)
    if not summary["success"]:
        _print(f"\nThe catalog backfill {backfill_id} FAILED:")
        for message in failure_messages(history):
            _print(f"  - {message}")
        _print(f"See its runs in the UI (`smartcart ui`, Overview > Backfills) and the log {log_path}.")
        return False
    m = summary["materialized"]
    rows = scraped_rows(settings, days)
    _print(
        f"\nCatalog built in {time.monotonic() - started:.0f}s: backfill {backfill_id}, {len(history.run_ids)} runs"
    )
    _print(
        f"  rows scraped:      {rows.get('price_observations', 0)} prices, {rows.get('stores', 0)} store-days, "
        f"{rows.get('rejected_items', 0)} rejected"
    )
    warned = summary["checks_warned"]
    _print(
        f"  dbt + quality:     {len(summary['dbt_models'])} models built; checks (dbt tests, GX suites): "
        f"{summary['checks_passed']} passed, {len(summary['checks_failed'])} failed, {len(warned)} warned"
    )
    for evaluation in warned:
        _print(f"     warning: {describe_check(evaluation)}")
    split = m.get("sample_basket_split", {}).get("split", {})
    if split:
        basket_items = sum(len(store["items"]) for store in split.get("stores", []))
        _print(
            f"  sample basket:     {basket_items} items, "
            f"split over {len(split.get('stores', []))} stores (K={split.get('max_stores', '?')})"
        )
        for store in split.get("stores", []):
            _print(f"     {store['store']}: {len(store['items'])} items, subtotal {store['subtotal']:.2f}")
        if split.get("best_single_total") is not None:
            _print(
                f"     split total {split['total']:.2f} (incl. {split['visit_total']:.2f} travel) vs best single "
                f"store {split['best_single_total']:.2f} ({split['best_single_store']}): saving {split['saving']:.2f}"
            )
    delivery = m.get("catalog_delivery", {})
    if delivery:
        _print(
            f"  delivery:          {delivery.get('path')} ({delivery.get('files')} files, {delivery.get('rows')} rows)"
        )
        _print(f"                     verify it with: smartcart delivery verify {delivery.get('path')}")
    return True


def print_history_summary(settings: Settings) -> None:
    counts = history_counts(settings)
    _print("\nHistory features (rows):")
    for name, count in counts.items():
        _print(f"  {name + ':':22s} {count}")
    query = re.sub(r"\s+", " ", ANALYST_QUERY)
    # `db psql` hands psql an owner-only password file: no password on any command line.
    _print("Try it in psql:  .venv/bin/smartcart db psql --role smartcart_analyst -- -c " + f'"{query}"')
