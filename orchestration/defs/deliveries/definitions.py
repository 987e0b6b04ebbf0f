import dagster as dg

from orchestration.defs.deliveries.assets import catalog_delivery, trends_delivery
from orchestration.defs.deliveries.schedules import (
    catalog_delivery_daily,
    catalog_delivery_job,
    catalog_delivery_weekly_snapshot,
    trends_delivery_job,
    trends_delivery_weekly,
)

defs = dg.Definitions(
    assets=[catalog_delivery, trends_delivery],
    jobs=[catalog_delivery_job, trends_delivery_job],
    schedules=[catalog_delivery_daily, catalog_delivery_weekly_snapshot, trends_delivery_weekly],
)
