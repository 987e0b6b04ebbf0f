import dagster as dg

from orchestration.defs.housekeeping.jobs import housekeeping, optimizer_cache_purge
from orchestration.defs.housekeeping.schedules import housekeeping_daily, optimizer_cache_purge_hourly

defs = dg.Definitions(
    jobs=[housekeeping, optimizer_cache_purge],
    schedules=[housekeeping_daily, optimizer_cache_purge_hourly],
)
