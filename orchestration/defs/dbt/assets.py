"""dbt models as Dagster assets, dbt tests as asset checks (catalog target)."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import dbt_env, dbt_project, parse_manifest
from orchestration.defs.resources import WarehouseResource

parse_manifest()


@dbt_assets(
    manifest=dbt_project.manifest_path, project=dbt_project, select="tag:catalog", name="catalog_dbt_models"
)
def catalog_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """`dbt build --target catalog`: staging views and catalog marts, with their tests."""
    # profiles.yml reads its connection from the environment (dbt env_var()); the run process sets it.
    os.environ.update(dbt_env(warehouse.settings()))
    yield from dbt.cli(["build", "--target", "catalog"], context=context).stream()
