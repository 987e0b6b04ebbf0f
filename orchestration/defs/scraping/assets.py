"""Scraping: one Scrapy crawl per retailer, each in its own subprocess, landed by COPY into
smartcart_catalog.raw. Partitioned by day; each (retailer, day) is replaced atomically, so
re-running a partition changes nothing and a backfill of N days lands N days of prices.

Retailers of one day crawl in parallel (subprocesses; ``parallel_crawls``). A failed crawl never
loads: it is recorded in raw.scrape_runs as failed, the other retailers still load, and the step
fails (Dagster retries it with exponential back-off; reloading the good ones is idempotent).
"""

import datetime as dt
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
from pydantic import Field

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scraping.partitions import scrape_days
from scrapers.crawl import CrawlFailed, run_crawl_subprocess
from scrapers.landing import CrawlLanding
from scrapers.retailers import RETAILERS, site_url
from warehouse.loading import LoadSummary, load_crawl_landing, record_failed_run

RAW_TABLES = ("price_observations", "stores", "rejected_items", "scrape_runs")
SCRAPER_ROLE = "smartcart_scraper"


class ScrapeConfig(dg.Config):
    base_url: str = Field(
        default_factory=lambda: os.environ.get("SMARTCART_MARKET_URL", ""),
        description="Demo market root (each retailer's site is derived from it); defaults to "
        "SMARTCART_MARKET_URL (set by `smartcart ui` / `demo`).",
    )
    retailers: list[str] = Field(default_factory=lambda: list(RETAILERS), description="Retailers to crawl.")
    site_urls: dict[str, str] = Field(
        default_factory=dict, description="Per-retailer site URL overriding the one derived from base_url."
    )
    parallel_crawls: int = Field(default=3, description="Crawls run at once (each is a subprocess).")
    crawl_timeout_seconds: float = Field(default=1800, description="Kill a crawl that runs longer.")
    http_cache: bool = Field(
        default=False, description="Replay/store responses under SMARTCART_HOME/httpcache."
    )


def crawl_plan(config: ScrapeConfig) -> dict[str, str]:
    """retailer -> site URL to crawl; raises a Failure that says what to set when none is known."""
    unknown = sorted(set(config.retailers) - set(RETAILERS))
    if unknown:
        raise dg.Failure(f"unknown retailers {unknown}; configured: {', '.join(RETAILERS)}")
    plan = {}
    for retailer in config.retailers:
        if retailer in config.site_urls:
            plan[retailer] = config.site_urls[retailer]
        elif config.base_url:
            plan[retailer] = site_url(config.base_url, retailer)
        else:
            raise dg.Failure(
                f"no site to crawl for {retailer}: set base_url (or site_urls) in the run config or "
                "SMARTCART_MARKET_URL (`smartcart market` serves the demo market)"
            )
    return plan


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["catalog_raw", table],
            group_name="scraping",
            kinds={"scrapy", "postgres"},
            description=f"smartcart_catalog.raw.{table}, landed by the crawls (one partition per retailer and day).",
        )
        for table in RAW_TABLES
    ],
    partitions_def=scrape_days,
    # A backfill runs as one run over its day window (like the dbt assets), so N days cost one
    # run's start-up, not N; each (retailer, day) is still its own crawl and its own replace.
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def scraped_catalog(context: dg.AssetExecutionContext, config: ScrapeConfig, warehouse: WarehouseResource):
    """Crawl each retailer over HTTP for each day of the run; replace its (retailer, day) partition."""
    days = [dt.date.fromisoformat(key) for key in context.partition_keys]
    plan = crawl_plan(config)
    settings = warehouse.settings()
    prefix = context.run.run_id[:8]

    def crawl(retailer: str, scrape_date: dt.date) -> CrawlLanding:
        run_id = f"{prefix}-{retailer}-{uuid.uuid4().hex[:6]}"
        landing_dir = settings.landing_dir / retailer / scrape_date.isoformat() / run_id
        context.log.info(f"crawling {retailer} at {plan[retailer]} for {scrape_date} into {landing_dir}")
        try:
            return run_crawl_subprocess(
                retailer, plan[retailer], scrape_date, run_id, landing_dir,
                timeout_seconds=config.crawl_timeout_seconds,
                http_cache_dir=settings.home / "httpcache" / retailer if config.http_cache else None,
            )  # fmt: skip
        except CrawlFailed as exc:
            with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
                record_failed_run(conn, retailer, scrape_date, run_id, str(exc))
            raise

    failures: list[str] = []
    summaries: dict[tuple[str, dt.date], tuple[LoadSummary, dict]] = {}
    with ThreadPoolExecutor(max_workers=max(1, config.parallel_crawls)) as pool:
        futures = {(r, day): pool.submit(crawl, r, day) for day in days for r in plan}
        for (retailer, day), future in futures.items():
            try:
                landing = future.result()
            except CrawlFailed as exc:
                failures.append(str(exc).split("\n--- stderr tail ---")[0])
                continue
            with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
                summaries[(retailer, day)] = (load_crawl_landing(conn, landing), landing.stats)
            context.log.info(landing.stats.get("message", f"{retailer} loaded"))
    if failures:
        raise dg.Failure(description="; ".join(failures))

    def total(attribute: str) -> int:
        return sum(getattr(summary, attribute) for summary, _ in summaries.values())

    window = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}"
    common = {"scrape_date": window, "retailers": ", ".join(dict.fromkeys(r for r, _ in summaries))}
    per_retailer: dict = {}
    for (retailer, _day), (summary, stats) in summaries.items():  # summed over the run's days
        for key, value in (
            ("rows", summary.rows),
            ("rejects", summary.rejects),
            ("pages", stats.get("pages", 0)),
            ("retries", stats.get("retries", 0)),
        ):
            per_retailer[f"{retailer}/{key}"] = per_retailer.get(f"{retailer}/{key}", 0) + value
        per_retailer[f"{retailer}/duration_seconds"] = max(
            per_retailer.get(f"{retailer}/duration_seconds", 0.0), stats.get("duration_seconds", 0.0)
        )
        per_retailer[f"{retailer}/run_id"] = summary.run_id
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "price_observations"],
        metadata={
            **common,
            "rows": total("rows"),
            "rejects": total("rejects"),
            "pages": sum(int(stats.get("pages", 0)) for _, stats in summaries.values()),
            "duration_seconds": round(
                max((s.get("duration_seconds", 0.0) for _, s in summaries.values()), default=0.0), 3
            ),
            **per_retailer,
        },
    )
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "stores"], metadata={**common, "rows": total("stores")}
    )
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "rejected_items"], metadata={**common, "rows": total("rejects")}
    )
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "scrape_runs"],
        metadata={**common, "status": "succeeded", "runs": len(summaries)},
    )


scrape_daily_job = dg.define_asset_job(
    "scrape_daily",
    selection=dg.AssetSelection.assets(scraped_catalog),
    partitions_def=scrape_days,
    description="Crawl every configured retailer for one day into raw (backfill it over a range of days).",
)
