"""A backfill's crawls: one Scrapy process per day against one process for all the days of a step.

Run: ``.venv/bin/python benchmarks/backfill_crawl_benchmark.py [--days 14] [--products 60] [--stores 3]``

For one retailer over N days of a small demo catalogue (what `make demo` backfills), in the same run:
1. ``per day``: ``run_crawl_subprocess`` once per day, as a crawl step did before (a Scrapy start each);
2. ``one process``: ``run_crawls_subprocess`` with every day, as a crawl step does now.
The limit is the crawling itself: the sum of the days' ``duration_seconds`` from their own
``crawl_stats.json`` (Scrapy's open to close of each crawl, throttling included), measured in the same
run. "x limit" = wall time / that sum; what is above 1 is process start-up and hand-over. CPU seconds are
the crawl processes' own (children). Nothing is loaded: this measures the crawl step's subprocess part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scrapers.crawl import PlannedCrawl, run_crawl_subprocess, run_crawls_subprocess  # noqa: E402
from scrapers.demo_market import launch  # noqa: E402

FIRST_DAY = dt.date(2026, 11, 19)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _measure(label: str, crawl, plans: list[PlannedCrawl]) -> dict:
    cpu, started = _children_cpu(), time.monotonic()
    landings = crawl(plans)
    wall = time.monotonic() - started
    failed = [landing for landing in landings if isinstance(landing, Exception)]
    if failed:
        raise SystemExit(f"{label}: {len(failed)} crawl(s) failed: {failed[0]}")
    return {
        "label": label,
        "wall": wall,
        "cpu": _children_cpu() - cpu,
        "crawling": sum(float(landing.stats["duration_seconds"]) for landing in landings),
        "rows": sum(int(landing.stats["items"]) for landing in landings),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument(
        "--retailer", default="nextmart", help="a demo-market retailer (nextmart: its own path)"
    )
    args = parser.parse_args()
    days = [FIRST_DAY + dt.timedelta(days=offset) for offset in range(args.days)]
    with (
        tempfile.TemporaryDirectory(prefix="smartcart-crawl-bench-") as work,
        launch(seed=42, products=args.products, stores=args.stores, date=FIRST_DAY) as market,
    ):
        site = f"{market.base_url}/{args.retailer}"

        def plans(tag: str) -> list[PlannedCrawl]:
            return [
                PlannedCrawl(day, f"{tag}-{day:%m%d}", Path(work) / tag / day.isoformat()) for day in days
            ]

        def per_day(planned: list[PlannedCrawl]) -> list:
            return [
                run_crawl_subprocess(args.retailer, site, p.scrape_date, p.run_id, p.landing_dir)
                for p in planned
            ]

        results = [
            _measure("per day (before)", per_day, plans("per-day")),
            _measure(
                "one process (now)",
                lambda planned: run_crawls_subprocess(args.retailer, site, planned),
                plans("one"),
            ),
        ]
    print(
        f"\n{args.retailer}: {args.days} days x {args.products} products x {args.stores} stores, one step's crawls\n"
    )
    print(
        f"{'crawl step':<18} | {'wall s':>7} | {'crawling s (limit)':>18} | {'x limit':>7} | {'crawl CPU s':>11} | {'rows':>6}"
    )
    print(f"{'-' * 18}-+-{'-' * 7}-+-{'-' * 18}-+-{'-' * 7}-+-{'-' * 11}-+-{'-' * 6}")
    for r in results:
        print(
            f"{r['label']:<18} | {r['wall']:>7.1f} | {r['crawling']:>18.1f} | {r['wall'] / r['crawling']:>7.2f} | "
            f"{r['cpu']:>11.1f} | {r['rows']:>6}"
        )
    before, now = results
    print(
        f"\nwall time: {now['wall'] / before['wall']:.2f} of before; crawl CPU: {now['cpu'] / before['cpu']:.2f} of before"
    )
    if before["rows"] != now["rows"]:
        print(f"rows differ: {before['rows']} before, {now['rows']} now")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
