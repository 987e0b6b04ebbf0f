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
from scrapers.retailers import RETAILERS, site_url
from warehouse.domain.landing import CrawlLanding
from warehouse.landing.loading import LoadSummary, load_crawl_landing, record_failed_run

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
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def scraped_catalog(context: dg.AssetExecutionContext, config: ScrapeConfig, warehouse: WarehouseResource):
    """Crawl each retailer over HTTP for the partition's day; replace its (retailer, day) partition."""
    scrape_date = dt.date.fromisoformat(context.partition_key)
    plan = crawl_plan(config)
    settings = warehouse.settings()
    prefix = context.run.run_id[:8]

    def crawl(retailer: str) -> CrawlLanding:
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
    summaries: dict[str, tuple[LoadSummary, dict]] = {}
    with ThreadPoolExecutor(max_workers=max(1, config.parallel_crawls)) as pool:
        futures = {retailer: pool.submit(crawl, retailer) for retailer in plan}
        for retailer, future in futures.items():
            try:
                landing = future.result()
            except CrawlFailed as exc:
                failures.append(str(exc).split("\n--- stderr tail ---")[0])
                continue
            with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
                summaries[retailer] = (load_crawl_landing(conn, landing), landing.stats)
            context.log.info(landing.stats.get("message", f"{retailer} loaded"))
            if summaries[retailer][0].health and summaries[retailer][0].health.degraded:
                context.log.warning(summaries[retailer][0].health.summary())  # crawl_health check says more
    if failures:
        raise dg.Failure(description="; ".join(failures))

    def total(attribute: str) -> int:
        return sum(getattr(summary, attribute) for summary, _ in summaries.values())

    common = {"scrape_date": scrape_date.isoformat(), "retailers": ", ".join(summaries)}
    per_retailer = {}
    for retailer, (summary, stats) in summaries.items():
        per_retailer.update(
            {
                f"{retailer}/rows": summary.rows,
                f"{retailer}/rejects": summary.rejects,
                f"{retailer}/pages": stats.get("pages", 0),
                f"{retailer}/retries": stats.get("retries", 0),
                f"{retailer}/duration_seconds": stats.get("duration_seconds", 0.0),
                f"{retailer}/run_id": summary.run_id,
                f"{retailer}/status": summary.status,
            }
        )
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
