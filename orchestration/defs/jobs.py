"""Jobs that span domains."""

import dagster as dg

from orchestration.defs.dbt.assets import catalog_dbt_models

# The whole catalog pipeline, spider to delivery: what `smartcart demo` runs and ops launch from the UI.
catalog_pipeline = dg.define_asset_job(
    "catalog_pipeline",
    selection=dg.AssetSelection.groups("scraping", "optimizer", "deliveries")
    | dg.AssetSelection.assets(catalog_dbt_models),
    description="Crawl -> raw (COPY) -> dbt build (catalog) -> sample basket split -> parquet delivery.",
)
