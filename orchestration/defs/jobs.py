"""Jobs that span domains."""

import dagster as dg

from orchestration.defs.dbt.assets import catalog_dbt_models
from orchestration.defs.deliveries.assets import catalog_delivery
from orchestration.defs.optimizer.assets import sample_basket_split
from orchestration.defs.scraping.assets import scraped_catalog

# The whole catalog pipeline, spider to delivery: what `smartcart demo` runs and ops launch from the UI.
# Named assets, not groups: a group can grow (the trends delivery lives in "deliveries" too).
catalog_pipeline = dg.define_asset_job(
    "catalog_pipeline",
    selection=dg.AssetSelection.assets(
        scraped_catalog, catalog_dbt_models, sample_basket_split, catalog_delivery
    ),
    description="Crawl -> raw (COPY) -> dbt build (catalog) -> quality checks -> sample basket split -> delivery.",
)
