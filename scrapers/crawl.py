"""Run a retailer's crawls into landing directories; fail loudly when a crawl is incomplete.

CLI:
    python -m scrapers.crawl --retailer freshmart --base-url URL --scrape-date YYYY-MM-DD \
        --run-id RUN --landing-dir DIR [--log-level INFO]
    python -m scrapers.crawl --retailer freshmart --base-url URL \
        --crawl YYYY-MM-DD RUN DIR [--crawl YYYY-MM-DD RUN DIR ...]

Each crawl writes ``price_observations.tsv``, ``stores.jsonl``, ``rejected_items.jsonl`` and
``crawl_stats.json`` to its DIR. The exit code is 0 only when every crawl fetched and parsed every
page. Any failed page request (after retries), spider error or empty result marks that crawl's
landing failed; the other crawls of the process still run and land.

Dagster calls ``run_crawls_subprocess``: the days of one step (a backfill's range) crawl one after
another in one subprocess. A subprocess because Twisted's reactor cannot be restarted within a
process; one for all the days because starting Scrapy costs about 2 s of CPU, several times what
a small catalogue's crawl costs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.domain.landing import (
    CRAWL_STATS_FILE,
    STATUS_FAILED,
    STATUS_SUCCEEDED,
    CrawlFailed,
    CrawlLanding,
)
from warehouse.platform.safe_write import DiskFull, write_file_atomically

__all__ = [
    "CrawlFailed", "CrawlLanding", "PlannedCrawl", "main", "run_crawl_subprocess", "run_crawls_subprocess",
    "summarise_crawl",
]  # fmt: skip

_REPO_ROOT = Path(__file__).resolve().parents[1]


def summarise_crawl(raw_stats: dict[str, Any], retailer: str, base_url: str) -> dict[str, Any]:
    """Turn Scrapy's stats into the crawl_stats.json summary and decide whether the crawl completed."""

    def stat(key: str) -> int:
        return int(raw_stats.get(key, 0) or 0)

    failed_requests = stat("smartcart/request_failures")
    spider_errors = stat("spider_exceptions/count")
    error_logs = stat("log_count/ERROR")
    pages, pages_expected = stat("smartcart/pages"), stat("smartcart/pages_expected") + 1  # + stores page
    prices, stores, rejects = (
        stat("smartcart/price_observations"),
        stat("smartcart/stores"),
        stat("smartcart/rejects"),
    )
    finish_reason = raw_stats.get("finish_reason", "unknown")
    problems: list[str] = []
    if failed_requests:
        first = raw_stats.get("smartcart/first_failure", "unknown reason")
        problems.append(
            f"{failed_requests} page request{'s' if failed_requests > 1 else ''} failed ({first}) "
            f"— is the market at {base_url} reachable?"
        )
    if spider_errors:
        problems.append(f"{spider_errors} spider error(s) while parsing pages (see the log for tracebacks)")
    if finish_reason != "finished":
        problems.append(f"crawl finished with reason {finish_reason!r}, not 'finished'")
    if pages < pages_expected:
        problems.append(f"only {pages} of {pages_expected} pages were parsed")
    if not problems and error_logs:
        problems.append(f"{error_logs} error(s) logged (see the log)")
    if not problems and (stores == 0 or prices == 0):
        problems.append(
            f"the crawl found {stores} stores and {prices} price observations; expected some of each"
        )
    if raw_stats.get("smartcart/disk_full"):  # one clear message, not the errors it caused
        problems = [str(raw_stats["smartcart/disk_full"])]
    status = STATUS_FAILED if problems else STATUS_SUCCEEDED
    message = (
        f"crawl of {retailer} incomplete: {'; '.join(problems)}. Nothing from this run may be loaded."
        if problems
        else f"crawl of {retailer} complete: {prices} price observations, {stores} stores, {rejects} rejects"
    )
    return {
        "status": status,
        "message": message,
        "pages": pages,
        "pages_expected": pages_expected,
        "items": prices,
        "stores": stores,
        "rejects": rejects,
        "errors": failed_requests + spider_errors + (0 if failed_requests + spider_errors else error_logs),
        "duplicates": stat("smartcart/duplicates"),
        "gtin_invalid": stat("smartcart/gtin_invalid"),
        "gtin_missing": stat("smartcart/gtin_missing"),
        "pack_size_unparsed": stat("smartcart/pack_size_unparsed"),
        "requests": stat("downloader/request_count"),
        "retries": stat("retry/count") + stat("smartcart/rate_limited") + stat("smartcart/parse_retries"),
        "rate_limited": stat("smartcart/rate_limited"),
        "rate_limit_wait_seconds": float(raw_stats.get("smartcart/rate_limit_wait_seconds", 0) or 0),
        "pages_quarantined": stat("smartcart/pages_quarantined"),
        "bytes": stat("downloader/response_bytes"),
        "memory_max_bytes": raw_stats.get("memusage/max"),
        "finish_reason": finish_reason,
    }


@dataclass(frozen=True)
class PlannedCrawl:
    """One crawl of a retailer: its day, its scrape run id and the folder it lands in."""

    scrape_date: dt.date
    run_id: str
    landing_dir: Path


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scrapers.crawl",
        description="Crawl one retailer, for one day or several, to landing dirs.",
    )
    parser.add_argument("--retailer", required=True, help="spider name, e.g. freshmart")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--scrape-date", type=dt.date.fromisoformat)
    parser.add_argument("--run-id")
    parser.add_argument("--landing-dir", type=Path)
    parser.add_argument(
        "--crawl", nargs=3, action="append", default=[], metavar=("DATE", "RUN_ID", "DIR"),
        help="one crawl of several, run in turn in this process (repeatable; instead of the three above)",
    )  # fmt: skip
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--http-cache", type=Path, default=None, help="replay/store responses in DIR")
    parser.add_argument(
        "--spider-arg", action="append", default=[], metavar="KEY=VALUE",
        help="extra spider argument, e.g. page_size=5000 (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    single = (args.scrape_date, args.run_id, args.landing_dir)
    if args.crawl and any(value is not None for value in single):
        parser.error(
            "give either --crawl (repeatable) or --scrape-date, --run-id and --landing-dir, not both"
        )
    if not args.crawl and any(value is None for value in single):
        parser.error(
            "give --scrape-date, --run-id and --landing-dir (or one --crawl DATE RUN_ID DIR per day)"
        )
    try:
        args.plans = [
            PlannedCrawl(dt.date.fromisoformat(day), run_id, Path(folder))
            for day, run_id, folder in args.crawl
        ] or [PlannedCrawl(*single)]
    except ValueError as exc:
        parser.error(f"--crawl: {exc}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # Scrapy is imported here so that importing this module (Dagster) stays cheap.
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from twisted.internet.defer import inlineCallbacks
    from twisted.python.failure import Failure

    from scrapers import settings as project_settings

    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.set("LOG_LEVEL", args.log_level.upper(), priority="cmdline")
    if args.http_cache:
        settings.set("HTTPCACHE_ENABLED", True, priority="cmdline")
        settings.set("HTTPCACHE_DIR", str(args.http_cache.resolve()), priority="cmdline")
    spider_args = dict(arg.partition("=")[::2] for arg in args.spider_arg)

    process = CrawlerProcess(settings)
    known = sorted(process.spider_loader.list())
    if args.retailer not in known:
        print(f"unknown retailer {args.retailer!r}; known retailers: {', '.join(known)}", file=sys.stderr)
        return 2
    page_limit = None
    if spider_args.get("max_pages") and not hasattr(
        process.spider_loader.load(args.retailer), "sitemap_filter"
    ):
        # formats without their own page limit stop after N pages (+ the stores page)
        page_limit = int(spider_args.pop("max_pages")) + 1
    for plan in args.plans:  # a stale success must not survive a crash, even of a crawl never reached
        plan.landing_dir.mkdir(parents=True, exist_ok=True)
        (plan.landing_dir / CRAWL_STATS_FILE).unlink(missing_ok=True)
    outcomes: list[bool] = []

    def crawl_one(plan: PlannedCrawl):
        landing_dir = plan.landing_dir.resolve()
        crawler = process.create_crawler(args.retailer)  # settings are the crawler's own until it starts
        crawler.settings.set("SMARTCART_LANDING_DIR", str(landing_dir), priority="cmdline")
        if page_limit:
            crawler.settings.set("CLOSESPIDER_PAGECOUNT", page_limit, priority="cmdline")
        started_at, started = dt.datetime.now(dt.UTC), time.monotonic()
        crawl = process.crawl(
            crawler, base_url=args.base_url, scrape_date=plan.scrape_date.isoformat(), run_id=plan.run_id,
            **spider_args,
        )  # fmt: skip

        def finished(result):
            if isinstance(result, Failure):  # the spider did not start (a bad argument): its stats say so
                print(
                    f"crawl of {args.retailer} (run {plan.run_id}) did not start: {result.value}",
                    file=sys.stderr,
                )
            outcomes.append(
                _write_stats(
                    crawler.stats.get_stats(), args, plan, landing_dir, started_at, time.monotonic() - started
                )
            )

        return crawl.addBoth(finished)

    @inlineCallbacks
    def crawl_in_turn():
        for plan in args.plans:
            yield crawl_one(plan)

    done = crawl_in_turn()  # the first crawl installs the reactor its settings name
    if not done.called:
        from twisted.internet import reactor

        def stop(_):
            with contextlib.suppress(RuntimeError):  # already stopped by a signal
                reactor.stop()

        done.addBoth(stop)
        process.start(stop_after_crawl=False)
    # A crawl the process never reached (stopped by a signal) has no stats: it did not succeed.
    return 0 if len(outcomes) == len(args.plans) and all(outcomes) else 1


def _write_stats(
    raw_stats: dict[str, Any], args: argparse.Namespace, plan: PlannedCrawl, landing_dir: Path,
    started_at: dt.datetime, duration: float,
) -> bool:  # fmt: skip
    """Write one crawl's ``crawl_stats.json``; True when the crawl succeeded and its stats are on disk."""
    summary = summarise_crawl(raw_stats, args.retailer, args.base_url)
    summary.update(
        retailer=args.retailer,
        base_url=args.base_url,
        scrape_date=plan.scrape_date.isoformat(),
        run_id=plan.run_id,
        started_at=started_at.isoformat(),
        finished_at=dt.datetime.now(dt.UTC).isoformat(),
        duration_seconds=round(duration, 3),
        rows_per_second=round(summary["items"] / duration, 1) if duration > 0 else None,
    )
    try:  # all or nothing: a 0-byte crawl_stats.json would later read as garbage
        write_file_atomically(landing_dir / CRAWL_STATS_FILE, (json.dumps(summary, indent=2) + "\n").encode())
    except DiskFull as exc:
        print(f"crawl of {args.retailer} failed (run {plan.run_id}): {exc}", file=sys.stderr)
        return False
    if summary["status"] != STATUS_SUCCEEDED:
        print(f"{summary['message']} (run {plan.run_id})", file=sys.stderr)
        return False
    print(f"{summary['message']} in {duration:.1f}s -> {landing_dir}")
    return True


def run_crawl_subprocess(
    retailer: str,
    base_url: str,
    scrape_date: dt.date,
    run_id: str,
    landing_dir: Path,
    timeout_seconds: float = 600,
    spider_args: dict[str, Any] | None = None,
    http_cache_dir: Path | None = None,
) -> CrawlLanding:
    """One crawl in a subprocess: its landing, or ``CrawlFailed`` saying why."""
    (outcome,) = run_crawls_subprocess(
        retailer, base_url, [PlannedCrawl(scrape_date, run_id, Path(landing_dir))],
        timeout_seconds=timeout_seconds, spider_args=spider_args, http_cache_dir=http_cache_dir,
    )  # fmt: skip
    if isinstance(outcome, CrawlFailed):
        raise outcome
    return outcome


def run_crawls_subprocess(
    retailer: str,
    base_url: str,
    plans: Sequence[PlannedCrawl],
    timeout_seconds: float = 600,
    spider_args: dict[str, Any] | None = None,
    http_cache_dir: Path | None = None,
) -> list[CrawlLanding | CrawlFailed]:
    """Run ``python -m scrapers.crawl`` once for all ``plans``, in turn; per plan, its landing or the
    ``CrawlFailed`` that says why it must not be loaded. ``timeout_seconds`` is each crawl's budget:
    the process may take that many per plan. Crawls that finished before a timeout or a crash keep
    their landing."""
    cmd = [sys.executable, "-m", "scrapers.crawl", "--retailer", retailer, "--base-url", base_url]
    for plan in plans:
        cmd += ["--crawl", plan.scrape_date.isoformat(), plan.run_id, str(plan.landing_dir)]
    for key, value in (spider_args or {}).items():
        cmd += ["--spider-arg", f"{key}={value}"]
    if http_cache_dir is not None:
        cmd += ["--http-cache", str(http_cache_dir)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH")) if p)
    budget = timeout_seconds * len(plans)
    try:
        completed = subprocess.run(
            cmd, capture_output=True, text=True, timeout=budget, env=env, cwd=_REPO_ROOT
        )
        stderr, ended = completed.stderr or "", f"failed with exit code {completed.returncode}"
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        ended = (
            f"timed out after {budget:.0f}s; nothing may be loaded. "
            f"Raise timeout_seconds or check the site at {base_url}"
        )
    return [_outcome(retailer, plan, stderr, ended) for plan in plans]


def _outcome(retailer: str, plan: PlannedCrawl, stderr: str, ended: str) -> CrawlLanding | CrawlFailed:
    """A plan's landing when its stats say it succeeded, else why not (its own message first)."""
    tail = f"\n--- stderr tail ---\n{_tail(stderr)}"
    try:
        landing = CrawlLanding.from_dir(plan.landing_dir)
    except CrawlFailed:  # no stats: the crawl never finished (a crash, a timeout, a full disk)
        own = [
            line
            for line in stderr.splitlines()
            if line.startswith(f"crawl of {retailer}") and plan.run_id in line
        ]
        message = own[-1] if own else f"crawl of {retailer} {ended} (run {plan.run_id})"
        return CrawlFailed(message + tail)
    if not landing.succeeded:
        return CrawlFailed(f"{landing.stats.get('message')}{tail}")
    return landing


def _tail(text: str | bytes | None, lines: int = 30) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
