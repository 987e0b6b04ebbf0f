"""Delivery schedules: a daily catalog delta and a weekly full snapshot.

Each run passes the quality gate first (warehouse.quality.reports): a failed blocking check
fails the run and nothing ships.
"""

import datetime as dt

import dagster as dg

from orchestration.defs.deliveries.assets import catalog_delivery

catalog_delivery_job = dg.define_asset_job(
    "catalog_delivery_job",
    selection=dg.AssetSelection.assets(catalog_delivery),
    description="Ship the catalog mart (after the quality gate): a delta or a full snapshot.",
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
