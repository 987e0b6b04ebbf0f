"""Trends: catalog_ref (catalog dimensions copied into the behaviour DB) and the trends dbt models."""

import dagster as dg
from dagster_dbt import dbt_assets

from orchestration.defs.dbt.assets import SmartcartDbtTranslator
from orchestration.defs.dbt.project import dbt_executable, dbt_project, prepare_if_dev
from orchestration.defs.dbt.resources import WarehouseDbtCliResource
from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from warehouse.publishing.catalog_ref import publish_catalog_ref

prepare_if_dev()

CATALOG_REF_TABLES = {
    "products": "catalog/dim_product",
    "stores": "catalog/dim_store",
    "current_prices": "catalog/fct_current_prices",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["catalog_ref", table],
            group_name="trends",
            kinds={"postgres"},
            deps=[dg.AssetKey(upstream.split("/"))],
            description=f"smartcart_behavior.catalog_ref.{table}: a published copy of {upstream}.",
            owners=owners_of("ops"),
        )
        for table, upstream in CATALOG_REF_TABLES.items()
    ],
)
def catalog_ref(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Copy the catalog mart's public dimensions into the behaviour database (as smartcart_transform)."""
    summary = publish_catalog_ref(warehouse.settings())
    counts = {
        "products": summary.products,
        "stores": summary.stores,
        "current_prices": summary.current_prices,
    }
    for table, rows in counts.items():
        extra = {"categories": summary.categories} if table == "products" else {}
        yield dg.MaterializeResult(
            asset_key=["catalog_ref", table], metadata={"rows": rows, "dagster/row_count": rows, **extra}
        )


# A second dbt resource: DbtCliResource appends its own --target, so the behaviour side needs its own.
dbt_behavior_resource = WarehouseDbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(dbt_project.profiles_dir),
    target="behavior",
    dbt_executable=dbt_executable(),
)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SmartcartDbtTranslator(),
    select="tag:trends",
    name="trends_dbt_models",
    pool="dbt_behavior",  # one behaviour dbt build at a time across runs
)
def trends_dbt_models(
    context: dg.AssetExecutionContext, dbt_behavior: WarehouseDbtCliResource, warehouse: WarehouseResource
):
    """`dbt build --target behavior`: app staging views and the k-anonymous trends mart (cells of at
    least Settings.k_threshold shoppers), with tests."""
    yield from dbt_behavior.build(warehouse.settings(), context=context).stream()
