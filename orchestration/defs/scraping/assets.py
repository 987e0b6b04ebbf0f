"""Scraping: one asset per retailer (``catalog_raw/<retailer>``), partitioned by day, each step one
retailer's crawls (its days, in turn, in one Scrapy subprocess), landed by COPY into
smartcart_catalog.raw.

The executor decides how many crawls run at once (one step per retailer); a retry re-crawls
only the failed retailer, and only the days of its range that did not land in this run. Each
(retailer, day) is replaced atomically, so re-running a partition changes nothing. A failed crawl
never loads: it is recorded in raw.scrape_runs as failed and its step fails.

``catalog_raw/<table>`` (price_observations, stores, rejected_items, scrape_runs) is the day's
raw landing of every retailer: the dbt sources point at it (meta.dagster.asset_key), the raw
quality suites check it, and its step reports the window's row counts. So the lineage reads
crawl -> raw table -> dbt. ADR 0018 records why an asset per retailer and not a
multi-partition.
"""

import datetime as dt
import uuid

import dagster as dg

from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scraping.partitions import scrape_days
from orchestration.defs.scraping.resources import CrawlSitesResource
from scrapers.crawl import CrawlFailed, PlannedCrawl, run_crawls_subprocess
from scrapers.retailers import RETAILERS
from warehouse.landing.loading import load_crawl_landing, record_failed_run
from warehouse.platform.access.roles import Role

RAW_TABLES = ("price_observations", "stores", "rejected_items", "scrape_runs")
SCRAPER_ROLE = Role.SCRAPER
# A crawl step may crawl several days (a single-run backfill): every day-partitioned asset of
# catalog_pipeline shares this policy, so a backfill is one run and dbt/delivery never race.
DAILY_BACKFILL_POLICY = dg.BackfillPolicy.single_run()

LANDED_SQL = """
select scrape_date from raw.scrape_runs
where retailer = %s and scrape_date = any(%s) and status = 'succeeded' and run_id like %s
"""


def crawl_asset_key(retailer: str) -> dg.AssetKey:
    return dg.AssetKey(["catalog_raw", retailer])


def crawl_op_name(retailer: str) -> str:
    return f"crawl_{retailer}"


def build_crawl_asset(retailer: str) -> dg.AssetsDefinition:
    """The asset of one retailer's crawls: its rows of raw.* for the run's day(s)."""

    @dg.multi_asset(
        name=crawl_op_name(retailer),  # the step's name: "crawl_freshmart" in the run's Gantt chart
        specs=[
            dg.AssetSpec(
                crawl_asset_key(retailer),
                group_name="scraping",
                kinds={"scrapy", "postgres"},
                owners=owners_of("scraping"),
                tags={"retailer": retailer},
                description=f"{retailer}'s catalogue crawled over HTTP for the partition's day, landed by "
                "COPY into smartcart_catalog.raw (its (retailer, day) partition of every raw table, "
                "replaced atomically).",
            )
        ],
        partitions_def=scrape_days,
        backfill_policy=DAILY_BACKFILL_POLICY,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL),
    )
    def crawl(
        context: dg.AssetExecutionContext, crawl_sites: CrawlSitesResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        days = [dt.date.fromisoformat(key) for key in context.partition_keys]
        site = crawl_sites.site_for(retailer)
        settings = warehouse.settings()
        # scrape_runs ids start with the Dagster run's prefix: a retry skips the days already landed.
        prefix = f"{context.run.run_id[:8]}-{retailer}-"
        with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
            landed = {row[0] for row in conn.execute(LANDED_SQL, (retailer, days, prefix + "%"))}
        totals = {"rows": 0, "stores": 0, "rejects": 0, "pages": 0, "retries": 0}
        degraded: list[str] = []
        duration, failures, run_ids = 0.0, [], []
        for day in sorted(landed):
            context.log.info(f"{retailer} {day}: already landed by this run, not crawled again")
        plans = []
        for day in days:
            if day not in landed:
                run_id = prefix + uuid.uuid4().hex[:6]
                plans.append(
                    PlannedCrawl(day, run_id, settings.landing_dir / retailer / day.isoformat() / run_id)
                )
        if plans:
            context.log.info(
                f"crawling {retailer} at {site} for {len(plans)} day(s), {plans[0].scrape_date}.."
                f"{plans[-1].scrape_date}, in one Scrapy process, into {settings.landing_dir / retailer}"
            )
            outcomes = run_crawls_subprocess(
                retailer, site, plans,
                timeout_seconds=crawl_sites.crawl_timeout_seconds,
                http_cache_dir=settings.home / "httpcache" / retailer if crawl_sites.http_cache else None,
            )  # fmt: skip
        else:
            outcomes = []
        for plan, landing in zip(plans, outcomes, strict=True):
            day = plan.scrape_date
            if isinstance(landing, CrawlFailed):
                with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
                    record_failed_run(conn, retailer, day, plan.run_id, str(landing))
                failures.append(str(landing).split("\n--- stderr tail ---")[0] + f" (day {day})")
                continue  # the other days of a range still land; the step fails below
            with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
                summary = load_crawl_landing(conn, landing)
            context.log.info(landing.stats.get("message", f"{retailer} {day} loaded") + f" ({day})")
            if summary.health and summary.health.degraded:  # the crawl_health check says more
                context.log.warning(summary.health.summary())
                degraded.append(day.isoformat())
            totals["rows"] += summary.rows
            totals["stores"] += summary.stores
            totals["rejects"] += summary.rejects
            totals["pages"] += int(landing.stats.get("pages", 0))
            totals["retries"] += int(landing.stats.get("retries", 0))
            duration += float(landing.stats.get("duration_seconds", 0.0))
            run_ids.append(summary.run_id)
        if failures:
            raise dg.Failure(description="; ".join(failures))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": totals["rows"],
                "retailer": retailer,
                "site": site,
                "days": ", ".join(d.isoformat() for d in days),
                **totals,
                "duration_seconds": round(duration, 3),
                "scrape_run_ids": ", ".join(run_ids) or "(all days landed earlier in this run)",
                "degraded_days": ", ".join(degraded) or "none",
            }
        )

    return crawl


crawl_assets = [build_crawl_asset(retailer) for retailer in RETAILERS]

WINDOW_COUNTS_SQL = {
    "price_observations": "select retailer, count(*) from raw.price_observations"
    " where scrape_date = any(%s) group by 1",
    "stores": "select retailer, count(*) from raw.stores where scrape_date = any(%s) group by 1",
    "rejected_items": "select retailer, count(*) from raw.rejected_items where scrape_date = any(%s) group by 1",
    "scrape_runs": "select retailer, count(*) from raw.scrape_runs"
    " where scrape_date = any(%s) and status = 'succeeded' group by 1",
}
TABLE_DESCRIPTIONS = {
    "price_observations": "one row per (retailer, day, store, product): the crawled shelf price",
    "stores": "one row per (retailer, day, store): the branches a crawl found",
    "rejected_items": "items the pipelines quarantined, with the reason",
    "scrape_runs": "one row per crawl: status, counts, duration, message",
}


@dg.multi_asset(
    name="raw_landing",
    specs=[
        dg.AssetSpec(
            ["catalog_raw", table],
            group_name="scraping",
            kinds={"postgres"},
            owners=owners_of("scraping"),
            deps=[crawl_asset_key(r) for r in RETAILERS],
            description=f"smartcart_catalog.raw.{table} ({TABLE_DESCRIPTIONS[table]}), every retailer's "
            "crawl of the day; what the dbt source reads.",
        )
        for table in RAW_TABLES
    ],
    partitions_def=scrape_days,
    backfill_policy=DAILY_BACKFILL_POLICY,
)
def raw_landing(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Report what raw holds for the run's day(s), per table and retailer, once the crawls landed."""
    days = [dt.date.fromisoformat(key) for key in context.partition_keys]
    with warehouse.connect("catalog", SCRAPER_ROLE) as conn:
        counts = {
            table: dict(conn.execute(sql, (days,)).fetchall()) for table, sql in WINDOW_COUNTS_SQL.items()
        }
    common = {"days": ", ".join(d.isoformat() for d in days)}
    for table in RAW_TABLES:
        per_retailer = counts[table]
        total = sum(per_retailer.values())
        yield dg.MaterializeResult(
            asset_key=["catalog_raw", table],
            metadata={
                **common,
                "dagster/row_count": total,
                "rows": total,
                "retailers": ", ".join(sorted(per_retailer)),
                **{f"{retailer}/rows": rows for retailer, rows in sorted(per_retailer.items())},
            },
        )


scrape_daily_job = dg.define_asset_job(
    "scrape_daily",
    selection=dg.AssetSelection.assets(*crawl_assets, raw_landing),
    description="Crawl every configured retailer for one day into raw (backfill it over a range of days).",
)
