"""The SmartCart code location: gathers each domain's definitions, nothing else."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt.assets import catalog_dbt_models
from orchestration.defs.dbt.resources import dbt_resource
from orchestration.defs.deliveries.assets import catalog_delivery
from orchestration.defs.jobs import catalog_pipeline
from orchestration.defs.optimizer.assets import sample_basket_split
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scraping.assets import scraped_catalog

defs = dg.Definitions(
    assets=[scraped_catalog, catalog_dbt_models, sample_basket_split, catalog_delivery],
    jobs=[catalog_pipeline],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource},
)
