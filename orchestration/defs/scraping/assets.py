"""Scraping: a Scrapy crawl in a subprocess, landed by COPY into smartcart_catalog.raw."""

import os
import uuid
from datetime import UTC, date, datetime

import dagster as dg
from pydantic import Field

from orchestration.defs.resources import WarehouseResource
from scrapers.crawl import CrawlFailed, run_crawl_subprocess
from warehouse.loading import load_crawl_landing, record_failed_run

RAW_TABLES = ("price_observations", "stores", "rejected_items", "scrape_runs")
SCRAPER_ROLE = "smartcart_scraper"


class ScrapeConfig(dg.Config):
    retailer: str = Field(default="freshmart", description="Retailer to crawl (a configured spider).")
    base_url: str = Field(
        default_factory=lambda: os.environ.get("SMARTCART_MARKET_URL", ""),
        description="Site root to crawl; defaults to SMARTCART_MARKET_URL (set by `smartcart ui` / `demo`).",
    )
    scrape_date: str | None = Field(
        default=None, description="Day the prices are for (YYYY-MM-DD); today if unset."
    )


def resolve_scrape_date(value: str | None) -> date:
    return date.fromisoformat(value) if value else datetime.now(UTC).date()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["catalog_raw", table],
            group_name="scraping",
            kinds={"scrapy", "postgres"},
            description=f"smartcart_catalog.raw.{table}, landed by the crawl (one partition per retailer and day).",
        )
        for table in RAW_TABLES
    ],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def scraped_catalog(context: dg.AssetExecutionContext, config: ScrapeConfig, warehouse: WarehouseResource):
    """Crawl one retailer over HTTP and replace its (retailer, day) partition in raw, atomically."""
    if not config.base_url:
        raise dg.Failure(
            "no site to crawl: set base_url in the run config or SMARTCART_MARKET_URL "
            "(`smartcart market` serves the demo market)"
        )
    scrape_date = resolve_scrape_date(config.scrape_date)
    run_id = f"{context.run_id[:8]}-{uuid.uuid4().hex[:8]}"
    settings = warehouse.settings()
    landing_dir = settings.landing_dir / config.retailer / scrape_date.isoformat() / run_id
    context.log.info(f"crawling {config.retailer} at {config.base_url} for {scrape_date} into {landing_dir}")
    try:
        landing = run_crawl_subprocess(config.retailer, config.base_url, scrape_date, run_id, landing_dir)
    except CrawlFailed as exc:
        with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
            record_failed_run(conn, config.retailer, scrape_date, run_id, str(exc))
        raise dg.Failure(description=str(exc)) from exc
    with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
        summary = load_crawl_landing(conn, landing)
    stats = landing.stats
    common = {"retailer": config.retailer, "scrape_date": scrape_date.isoformat(), "run_id": run_id}
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "price_observations"],
        metadata={
            **common,
            "rows": summary.rows,
            "pages": stats.get("pages", 0),
            "duration_seconds": stats.get("duration_seconds", 0.0),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "stores"], metadata={**common, "rows": summary.stores}
    )
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "rejected_items"], metadata={**common, "rows": summary.rejects}
    )
    yield dg.MaterializeResult(
        asset_key=["catalog_raw", "scrape_runs"], metadata={**common, "status": "succeeded"}
    )
