"""When housekeeping runs (UTC). Both are on by default: they only remove what the settings allow."""

import dagster as dg

from orchestration.defs.housekeeping.jobs import housekeeping, optimizer_cache_purge

optimizer_cache_purge_hourly = dg.ScheduleDefinition(
    name="optimizer_cache_purge_hourly",
    job=optimizer_cache_purge,
    cron_schedule="17 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour: delete expired optimizer cache rows (the service only skips them).",
)

housekeeping_daily = dg.ScheduleDefinition(
    name="housekeeping_daily",
    job=housekeeping,
    cron_schedule="15 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="04:15 UTC (after the nightly trends build): apply the SMARTCART_KEEP_* retention settings and rotate the server log.",
)
