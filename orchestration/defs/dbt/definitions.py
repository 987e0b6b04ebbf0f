import dagster as dg

from orchestration.defs.dbt.assets import catalog_dbt_models
from orchestration.defs.dbt.resources import dbt_resource

defs = dg.Definitions(assets=[catalog_dbt_models], resources={"dbt": dbt_resource})
