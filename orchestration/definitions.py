"""The SmartCart code location: gathers each domain's definitions and the shared resources, nothing else."""

import warnings

# dagster-dbt requires sqlglot[rs], whose sqlglotrs warns at import that it is deprecated; nothing
# here uses it directly. Silenced by exact message so the code location loads without warnings;
# drop this when dagster-dbt stops pulling sqlglotrs in.
warnings.filterwarnings("ignore", message="sqlglotrs is deprecated", category=DeprecationWarning)

import dagster as dg  # noqa: E402

from orchestration.defs.crowd_reports import definitions as crowd_reports_domain  # noqa: E402
from orchestration.defs.dbt import definitions as dbt_domain  # noqa: E402
from orchestration.defs.deliveries import definitions as deliveries_domain  # noqa: E402
from orchestration.defs.executor import code_location_executor  # noqa: E402
from orchestration.defs.housekeeping import definitions as housekeeping_domain  # noqa: E402
from orchestration.defs.ingestion import definitions as ingestion_domain  # noqa: E402
from orchestration.defs.jobs import catalog_pipeline  # noqa: E402
from orchestration.defs.operations import definitions as operations_domain  # noqa: E402
from orchestration.defs.optimizer import definitions as optimizer_domain  # noqa: E402
from orchestration.defs.quality import definitions as quality_domain  # noqa: E402
from orchestration.defs.resources import WarehouseResource  # noqa: E402
from orchestration.defs.runs import definitions as runs_domain  # noqa: E402
from orchestration.defs.scraping import definitions as scraping_domain  # noqa: E402
from orchestration.defs.trends import definitions as trends_domain  # noqa: E402
from warehouse.platform.config import Settings  # noqa: E402

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
    dg.Definitions(
        jobs=[catalog_pipeline],
        resources={"warehouse": WarehouseResource()},
        # The one setting read as the code location loads: where steps run is the deployment's choice.
        executor=code_location_executor(Settings.from_env().step_executor),
    ),
)
