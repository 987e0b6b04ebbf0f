"""Run one retailer crawl into a landing directory; fail loudly when the crawl is incomplete.

CLI:
    python -m scrapers.crawl --retailer freshmart --base-url URL --scrape-date YYYY-MM-DD \
        --run-id RUN --landing-dir DIR [--log-level INFO]

Writes ``price_observations.jsonl``, ``stores.jsonl``, ``rejected_items.jsonl`` and
``crawl_stats.json`` to DIR, and exits 0 only when every page was fetched and parsed. Any failed
page request (after retries), spider error or empty result exits 1 and marks the landing failed.

Dagster calls ``run_crawl_subprocess``: one crawl per subprocess, because Twisted's reactor
cannot be restarted within a process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from warehouse.domain.landing import (
    CRAWL_STATS_FILE,
    STATUS_FAILED,
    STATUS_SUCCEEDED,
    CrawlFailed,
    CrawlLanding,
)

__all__ = ["CrawlFailed", "CrawlLanding", "main", "run_crawl_subprocess", "summarise_crawl"]

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


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scrapers.crawl", description="Crawl one retailer to a landing dir."
    )
    parser.add_argument("--retailer", required=True, help="spider name, e.g. freshmart")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--scrape-date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--landing-dir", required=True, type=Path)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--http-cache", type=Path, default=None, help="replay/store responses in DIR")
    parser.add_argument(
        "--spider-arg", action="append", default=[], metavar="KEY=VALUE",
        help="extra spider argument, e.g. page_size=5000 (repeatable)",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # Scrapy is imported here so that importing this module (Dagster) stays cheap.
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from scrapers import settings as project_settings

    landing_dir: Path = args.landing_dir.resolve()
    landing_dir.mkdir(parents=True, exist_ok=True)
    (landing_dir / CRAWL_STATS_FILE).unlink(missing_ok=True)  # a stale success must not survive a crash
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.set("SMARTCART_LANDING_DIR", str(landing_dir), priority="cmdline")
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
    crawler = process.create_crawler(args.retailer)
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    process.crawl(
        crawler,
        base_url=args.base_url,
        scrape_date=args.scrape_date.isoformat(),
        run_id=args.run_id,
        **spider_args,
    )
    process.start()
    duration = time.monotonic() - started

    summary = summarise_crawl(crawler.stats.get_stats(), args.retailer, args.base_url)
    summary.update(
        retailer=args.retailer,
        base_url=args.base_url,
        scrape_date=args.scrape_date.isoformat(),
        run_id=args.run_id,
        started_at=started_at.isoformat(),
        finished_at=dt.datetime.now(dt.UTC).isoformat(),
        duration_seconds=round(duration, 3),
        rows_per_second=round(summary["items"] / duration, 1) if duration > 0 else None,
    )
    (landing_dir / CRAWL_STATS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    if summary["status"] != STATUS_SUCCEEDED:
        print(summary["message"], file=sys.stderr)
        return 1
    print(f"{summary['message']} in {duration:.1f}s -> {landing_dir}")
    return 0


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
    """Run ``python -m scrapers.crawl`` in a subprocess; return the landing or raise ``CrawlFailed``."""
    landing_dir = Path(landing_dir)
    cmd = [
        sys.executable, "-m", "scrapers.crawl",
        "--retailer", retailer, "--base-url", base_url, "--scrape-date", scrape_date.isoformat(),
        "--run-id", run_id, "--landing-dir", str(landing_dir),
    ]  # fmt: skip
    for key, value in (spider_args or {}).items():
        cmd += ["--spider-arg", f"{key}={value}"]
    if http_cache_dir is not None:
        cmd += ["--http-cache", str(http_cache_dir)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH")) if p)
    try:
        completed = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_seconds, env=env, cwd=_REPO_ROOT
        )
    except subprocess.TimeoutExpired as exc:
        tail = _tail(exc.stderr)
        raise CrawlFailed(
            f"crawl of {retailer} timed out after {timeout_seconds:.0f}s (run {run_id}); "
            "nothing may be loaded. "
            f"Raise timeout_seconds or check the site at {base_url}.\n--- stderr tail ---\n{tail}"
        ) from None
    if completed.returncode != 0:
        message = completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else ""
        if not message.startswith(f"crawl of {retailer}"):
            message = f"crawl of {retailer} failed with exit code {completed.returncode} (run {run_id})"
        raise CrawlFailed(f"{message}\n--- stderr tail ---\n{_tail(completed.stderr)}")
    landing = CrawlLanding.from_dir(landing_dir)
    if not landing.succeeded:  # belt and braces: exit 0 must mean a complete landing
        raise CrawlFailed(f"crawl of {retailer} exited 0 but its stats say: {landing.stats.get('message')}")
    return landing


def _tail(text: str | bytes | None, lines: int = 30) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
