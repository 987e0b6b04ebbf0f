"""Scraping at scale: end-to-end rows/s from HTTP to committed raw rows, the load stage against a
plain COPY of the same rows, and peak crawl memory as the catalogue grows.

Run: ``.venv/bin/python benchmarks/scraping_benchmark.py [--cases 5000x20,50000x20] [--page-size 5000]``

For each case (products x branches = observations) on a temporary embedded cluster:
1. the demo market runs in its own process; freshmart is crawled through its bulk feed
   (``/api/feed/products``, pages of ``--page-size``: what large chains give bulk consumers) by
   ``python -m scrapers.crawl`` in a subprocess, exactly as Dagster runs it (all pipelines on,
   items handed over per page);
2. ``warehouse.landing.loading.load_crawl_landing`` replaces the partition (delete + COPY + checks + run
   record, one transaction) as the scraper role;
3. a plain ``COPY FROM STDIN`` of the same landing file into a table of the same definition
   (``like raw.price_observations including all``), in the same run: the physical limit here.
4. a bare Scrapy crawl of the same feed pages (a plain ``scrapy.Spider`` that only yields each
   record as a dict: no item pipelines, no landing) in its own subprocess, against the same market:
   the framework's own limit. "vs bare Scrapy" = end-to-end rows/s / bare rows/s.
End-to-end rows/s = landed rows / (crawl wall time + load time). Peak crawl memory is Scrapy's
``memusage/max`` (RSS of the crawl process). CPU seconds of the crawl and market processes are
reported too: on a machine shared with other work, wall-clock rates understate what the code does;
"rows/s if each had its own core" = rows / (max(crawl CPU, market CPU) + load time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throwaway import throwaway_warehouse  # noqa: E402
from warehouse.platform.access.roles import Role  # noqa: E402

DAY = dt.date(2026, 11, 22)


def parse_cases(text: str) -> list[tuple[int, int]]:
    cases = []
    for part in text.split(","):
        products, _, stores = part.lower().partition("x")
        cases.append((int(products), int(stores)))
    return cases


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain_copy_seconds(url: str, path: Path) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("drop table if exists raw.bench_plain_copy")
        conn.execute("create table raw.bench_plain_copy (like raw.price_observations including all)")
        conn.commit()
        columns = ", ".join(
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'price_observations' order by ordinal_position"
            )
        )
        started = time.perf_counter()
        with conn.cursor() as cursor:
            with (
                cursor.copy(f"copy raw.bench_plain_copy ({columns}) from stdin") as copy,
                path.open("rb") as source,
            ):
                while block := source.read(1 << 20):
                    copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("drop table raw.bench_plain_copy")
        conn.commit()
    return seconds


BARE_SPIDER = """
import json, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess
from urllib.parse import urlencode

BASE, PAGE_SIZE = sys.argv[1], int(sys.argv[2])
rows = 0

class BareFeed(scrapy.Spider):
    name = "bare_feed"
    custom_settings = {"ROBOTSTXT_OBEY": False, "LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
                       "DOWNLOAD_DELAY": 0, "TELNETCONSOLE_ENABLED": False}

    async def start(self):
        yield scrapy.Request(BASE + "/api/stores", callback=self.parse_stores)

    def page(self, store, number):
        query = urlencode({"store": store, "page": number, "pageSize": PAGE_SIZE})
        return scrapy.Request(f"{BASE}/api/feed/products?{query}", callback=self.parse_products,
                              cb_kwargs={"store": store, "number": number},
                              headers={"X-SmartCart-Date": sys.argv[3]})

    def parse_stores(self, response):
        for store in json.loads(response.body)["stores"]:
            yield self.page(store["branchId"], 1)

    def parse_products(self, response, store, number):
        document = json.loads(response.body)
        if number == 1:
            for next_page in range(2, int(document["totalPages"]) + 1):
                yield self.page(store, next_page)
        for record in document["products"]:
            yield dict(record)

def count(item, response, spider):
    global rows
    rows += 1

process = CrawlerProcess()
crawler = process.create_crawler(BareFeed)
crawler.signals.connect(count, signal=scrapy.signals.item_scraped)
started = time.perf_counter()
process.crawl(crawler)
process.start()
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))
"""


def bare_scrapy_crawl(market_url: str, page_size: int) -> dict:
    """The same feed pages through a plain Scrapy spider yielding dicts (the framework's limit)."""
    import json
    import subprocess
    import sys

    # a file, not `python -c`: Scrapy inspects callbacks' source code
    with tempfile.NamedTemporaryFile("w", suffix="_bare_feed.py", delete=False) as script:
        script.write(BARE_SPIDER)
    try:
        completed = subprocess.run(
            [sys.executable, script.name, market_url, str(page_size), DAY.isoformat()],
            capture_output=True, text=True, check=True, timeout=3600,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if not result["rows"]:
        raise RuntimeError(f"the bare Scrapy crawl found no rows:\n{completed.stderr[-2000:]}")
    return result


def run_case(settings, products: int, stores: int, page_size: int, work: Path) -> dict:
    from scrapers.crawl import run_crawl_subprocess
    from scrapers.demo_market import launch
    from warehouse.landing.loading import load_crawl_landing

    run_id = f"bench-{products}x{stores}-{int(time.time())}"
    landing_dir = work / run_id
    children_before = _children_cpu()
    with launch(seed=42, products=products, stores=stores, date=DAY, ready_timeout=300) as market:
        started = time.perf_counter()
        landing = run_crawl_subprocess(
            "freshmart", market.base_url, DAY, run_id, landing_dir, timeout_seconds=3600,
            spider_args={"products_path": "/api/feed/products", "page_size": page_size},
        )  # fmt: skip
        crawl_seconds = time.perf_counter() - started
        crawl_cpu = (
            _children_cpu() - children_before
        )  # the crawl subprocess has been reaped; the market not yet
    market_cpu = _children_cpu() - children_before - crawl_cpu
    with launch(seed=42, products=products, stores=stores, date=DAY, ready_timeout=300) as bare_market:
        bare = bare_scrapy_crawl(bare_market.base_url, page_size)  # its own market: CPU figures stay apart
    with psycopg.connect(settings.database_url("catalog", Role.SCRAPER)) as conn:
        started = time.perf_counter()
        summary = load_crawl_landing(conn, landing)
        load_seconds = time.perf_counter() - started
    copy_seconds = plain_copy_seconds(settings.database_url("catalog"), landing.price_observations_path)
    with psycopg.connect(settings.database_url("catalog")) as conn:  # keep the temp cluster small
        conn.execute("delete from raw.price_observations where run_id = %s", (run_id,))
        conn.commit()
    size_mb = landing.price_observations_path.stat().st_size / 1e6
    shutil.rmtree(landing_dir, ignore_errors=True)
    return {
        "observations": products * stores,
        "rows": summary.rows,
        "rejects": summary.rejects,
        "pages": landing.stats["pages"],
        "crawl_s": crawl_seconds,
        "crawl_rows_s": summary.rows / crawl_seconds,
        "load_s": load_seconds,
        "copy_s": copy_seconds,
        "load_vs_copy": load_seconds / copy_seconds,
        "e2e_rows_s": summary.rows / (crawl_seconds + load_seconds),
        "peak_mb": (landing.stats.get("memory_max_bytes") or 0) / 1e6,
        "crawl_cpu_s": crawl_cpu,
        "market_cpu_s": market_cpu,
        # what two dedicated cores would do: crawl and market each on its own core
        "cpu_bound_rows_s": summary.rows / (max(crawl_cpu, market_cpu) + load_seconds),
        "landing_mb": size_mb,
        "bare_rows_s": bare["rows"] / bare["seconds"],
        "vs_bare": (summary.rows / (crawl_seconds + load_seconds)) / (bare["rows"] / bare["seconds"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="5000x20,50000x20", help="products x branches, comma-separated")
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args()

    with throwaway_warehouse() as settings:
        results = []
        for products, stores in parse_cases(args.cases):
            print(f"running {products} products x {stores} branches ...", flush=True)
            results.append(run_case(settings, products, stores, args.page_size, settings.home / "work"))

    print()
    print(
        f"Scraping benchmark ({os.cpu_count()} cores, bulk pages of {args.page_size}; machine shared with other work)"
    )
    header = (
        "| observations | rows landed | rejects | pages | crawl s | crawl rows/s | load s | plain COPY s "
        "| load / COPY | end-to-end rows/s | peak crawl RSS MB | landing MB | crawl CPU s | market CPU s "
        "| rows/s if each had its own core | bare Scrapy rows/s | end-to-end vs bare Scrapy |"
    )
    print(header)
    print("|" + "|".join("---" for _ in range(17)) + "|")
    for r in results:
        print(
            f"| {r['observations']:,} | {r['rows']:,} | {r['rejects']:,} | {r['pages']} | {r['crawl_s']:.1f} "
            f"| {r['crawl_rows_s']:,.0f} | {r['load_s']:.2f} | {r['copy_s']:.2f} | {r['load_vs_copy']:.2f}x "
            f"| {r['e2e_rows_s']:,.0f} | {r['peak_mb']:.0f} | {r['landing_mb']:.0f} | {r['crawl_cpu_s']:.1f} "
            f"| {r['market_cpu_s']:.1f} | {r['cpu_bound_rows_s']:,.0f} | {r['bare_rows_s']:,.0f} "
            f"| {r['vs_bare']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
