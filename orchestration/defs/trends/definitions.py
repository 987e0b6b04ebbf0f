import dagster as dg

from orchestration.defs.deliveries.assets import trends_delivery
from orchestration.defs.trends.assets import catalog_ref, dbt_behavior_resource, trends_dbt_models

# Ingestion -> catalog_ref -> dbt build (behavior) -> quality + privacy gate -> trends delivery:
# what `smartcart demo` runs after the catalog.
trends_pipeline = dg.define_asset_job(
    "trends_pipeline",
    selection=dg.AssetSelection.groups("ingestion")
    | dg.AssetSelection.assets(catalog_ref, trends_dbt_models, trends_delivery),
    description="App events (vault pseudonymization) + catalog_ref -> dbt build --target behavior (trends mart)"
    " -> trends delivery.",
)

# Nightly: the trends mart is rebuilt from raw, so consent changes and erasures reach it within a day.
trends_nightly = dg.ScheduleDefinition(
    name="trends_nightly",
    job=trends_pipeline,
    cron_schedule="30 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[catalog_ref, trends_dbt_models],
    jobs=[trends_pipeline],
    schedules=[trends_nightly],
    resources={"dbt_behavior": dbt_behavior_resource},
)
