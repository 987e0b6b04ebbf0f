"""The SmartCart code location: gathers each domain's definitions and the shared resources, nothing else."""

import dagster as dg

from orchestration.defs.crowd_reports import definitions as crowd_reports_domain
from orchestration.defs.dbt import definitions as dbt_domain
from orchestration.defs.deliveries import definitions as deliveries_domain
from orchestration.defs.housekeeping import definitions as housekeeping_domain
from orchestration.defs.ingestion import definitions as ingestion_domain
from orchestration.defs.jobs import catalog_pipeline
from orchestration.defs.operations import definitions as operations_domain
from orchestration.defs.optimizer import definitions as optimizer_domain
from orchestration.defs.quality import definitions as quality_domain
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.runs import definitions as runs_domain
from orchestration.defs.scraping import definitions as scraping_domain
from orchestration.defs.trends import definitions as trends_domain

defs = dg.Definitions.merge(
    scraping_domain.defs,
    crowd_reports_domain.defs,
    dbt_domain.defs,
    optimizer_domain.defs,
    deliveries_domain.defs,
    ingestion_domain.defs,
    trends_domain.defs,
    quality_domain.defs,
    runs_domain.defs,
    operations_domain.defs,
    housekeeping_domain.defs,
    dg.Definitions(jobs=[catalog_pipeline], resources={"warehouse": WarehouseResource()}),
)
