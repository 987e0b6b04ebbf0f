"""The crawl health check: which retailer's crawl of the run's day is degraded, and by how much.

Reads ``raw.scrape_runs`` (the loader recorded each crawl's verdict and measures, see
``warehouse.landing.crawl_health``). Not blocking: degraded rows may reach the marts, flagged;
the delivery is stopped by the catalog quality suites, which refuse degraded retailer-days.
"""

import datetime as dt

import dagster as dg

from orchestration.defs.resources import WarehouseResource

CHECK_ROLE = "smartcart_transform"

# The latest loaded run of each (retailer, day): what raw holds now for that partition.
_CURRENT_RUNS = """
select distinct on (retailer, scrape_date)
    retailer, scrape_date, status, items, health
from raw.scrape_runs
where scrape_date between %(first)s and %(last)s and status in ('succeeded', 'degraded')
order by retailer, scrape_date, finished_at desc
"""


def run_days(tags: dict[str, str]) -> tuple[dt.date, dt.date] | None:
    """The day window of a run from its partition tags (one partition or a range), else None."""
    if "dagster/partition" in tags:
        day = dt.date.fromisoformat(tags["dagster/partition"])
        return day, day
    first, last = (
        tags.get("dagster/asset_partition_range_start"),
        tags.get("dagster/asset_partition_range_end"),
    )
    if first and last:
        return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return None


def describe_degraded(rows: list[tuple]) -> tuple[bool, str, dict]:
    """(passed, description, metadata) of the current runs: each degraded one named with its breaches."""
    degraded = [r for r in rows if r[2] == "degraded"]
    metadata: dict = {"crawls": len(rows), "degraded": len(degraded)}
    for retailer, day, status, items, health in rows:
        metadata[f"{retailer}/{day}"] = dg.MetadataValue.json(
            {
                "status": status,
                "rows": items,
                **{k: v for k, v in (health or {}).items() if k != "thresholds"},
            }
        )
    if not rows:
        return True, "no crawl of these days is loaded", metadata
    if not degraded:
        return True, f"{len(rows)} crawl(s) healthy", metadata
    lines = [
        f"{retailer} {day}: " + "; ".join((health or {}).get("breaches") or ["degraded"])
        for retailer, day, _, _, health in degraded
    ]
    return False, "degraded crawls (their rows will not ship): " + " | ".join(lines), metadata


@dg.asset_check(
    asset=dg.AssetKey(["catalog_raw", "scrape_runs"]),
    name="crawl_health",
    blocking=False,
    description="Every crawl of the run's day(s) within its retailer's thresholds (rejects, quarantined "
    "pages, rows and store x product coverage vs the previous good day); says which retailer and by how much.",
)
def crawl_health_check(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    with warehouse.connect("catalog", CHECK_ROLE) as conn:
        window = run_days(context.run.tags)
        if window is None:  # no partition: the newest loaded day
            (newest,) = conn.execute("select max(scrape_date) from raw.scrape_runs").fetchone()
            window = (newest, newest) if newest else (dt.date.min, dt.date.min)
        rows = conn.execute(_CURRENT_RUNS, {"first": window[0], "last": window[1]}).fetchall()
    passed, description, metadata = describe_degraded(rows)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={"days": f"{window[0]}..{window[1]}", **metadata},
    )
