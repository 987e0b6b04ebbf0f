"""Delivery schedules: catalog daily delta and weekly snapshot; trends weekly.

Each run checks its product and passes the quality gate (orchestration/defs/quality/gate.py)
first: a failed blocking check fails the run and nothing ships.
"""

import datetime as dt

import dagster as dg

from orchestration.defs.deliveries.assets import catalog_delivery, trends_delivery
from orchestration.defs.quality.checks import catalog_quality, trends_quality

# Each delivery job runs its product's checks first, so the gate reads fresh verdicts from
# the event log even when the delivery is launched on its own.
catalog_delivery_job = dg.define_asset_job(
    "catalog_delivery_job",
    selection=dg.AssetSelection.assets(catalog_delivery) | dg.AssetSelection.checks(catalog_quality),
    description="Check the catalog mart, then ship it (quality gate): a delta or a full snapshot.",
)


def delivery_run_config(kind: str, day: dt.date | None) -> dict:
    config = {"kind": kind, "day": day.isoformat() if day else None}
    return {"ops": {"catalog_delivery": {"config": config}}}


@dg.schedule(job=catalog_delivery_job, cron_schedule="0 6 * * *", execution_timezone="UTC")
def catalog_delivery_daily(context: dg.ScheduleEvaluationContext):
    """06:00 UTC: yesterday's prices as a delta delivery."""
    day = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    return dg.RunRequest(run_key=f"catalog-delta-{day}", run_config=delivery_run_config("delta", day))


@dg.schedule(job=catalog_delivery_job, cron_schedule="0 7 * * 1", execution_timezone="UTC")
def catalog_delivery_weekly_snapshot(context: dg.ScheduleEvaluationContext):
    """Mondays 07:00 UTC: the whole catalog mart as a snapshot."""
    day = context.scheduled_execution_time.date()
    return dg.RunRequest(run_key=f"catalog-snapshot-{day}", run_config=delivery_run_config("snapshot", None))


trends_delivery_job = dg.define_asset_job(
    "trends_delivery_job",
    selection=dg.AssetSelection.assets(trends_delivery) | dg.AssetSelection.checks(trends_quality),
    description="Check the trends mart, then ship it (quality and privacy gate) as a weekly snapshot.",
)

# Mondays 08:00 UTC, after the nightly trends build.
trends_delivery_weekly = dg.ScheduleDefinition(
    name="trends_delivery_weekly",
    job=trends_delivery_job,
    cron_schedule="0 8 * * 1",
    execution_timezone="UTC",
)
