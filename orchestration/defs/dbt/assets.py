"""dbt models as Dagster assets, dbt tests as asset checks (catalog target), partitioned by day.

The partitions are the scraping domain's own (``scrape_days``), so spider -> raw -> mart is one
graph with one partition key per day. A run's day window becomes the dbt vars ``min_date`` /
``max_date`` that the incremental models (fct_prices_daily and the other facts) rebuild; a backfill
runs as one dbt invocation over its whole window (BackfillPolicy.single_run), so N days build N days.
"""

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from dagster_shared.record import replace

from orchestration.defs.dbt.project import dbt_project, partition_window_vars, prepare_if_dev
from orchestration.defs.dbt.resources import WarehouseDbtCliResource
from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scraping.partitions import scrape_days

prepare_if_dev()

BATCH_ASSET_KEY = dg.AssetKey(["optimizer", "basket_splits_batch"])


def window_vars_for(context: dg.AssetExecutionContext) -> dict[str, str] | None:
    """The run's day window as dbt vars, or None for an unpartitioned run (dbt builds all history).

    A single-partition run (the daily schedule, one day launched from the UI, the demo) and a
    ranged backfill both have a time window; checking only for a range would let a one-day run
    rebuild every day of history.
    """
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    window = context.partition_time_window
    return partition_window_vars(window.start.date(), window.end.date())


def dbt_test_description(test_node: dict) -> str:
    """What a dbt test checks, in words: its own description if it has one, else its kind, column
    and arguments (e.g. "dbt test not_null on shoppers")."""
    if test_node.get("description"):
        return test_node["description"]
    metadata = test_node.get("test_metadata") or {}
    kind = metadata.get("name") or test_node.get("name", "singular test")
    column = test_node.get("column_name")
    kwargs = {
        key: value
        for key, value in (metadata.get("kwargs") or {}).items()
        if key not in ("column_name", "model") and value is not None
    }
    text = f"dbt test {kind}" + (f" on {column}" if column else "")
    if kwargs:
        text += " (" + ", ".join(f"{key}={value}" for key, value in sorted(kwargs.items())) + ")"
    return text


class SmartcartDbtTranslator(DagsterDbtTranslator):
    """dbt resources as Dagster sees them: owned by analytics engineering, every dbt test a check
    with a description that says what it tests."""

    def get_owners(self, dbt_resource_props):
        return owners_of("dbt")

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return replace(spec, description=dbt_test_description(manifest["nodes"].get(unique_id, {})))


class CatalogDbtTranslator(SmartcartDbtTranslator):
    """The catalog side: a day's model reads every shard of the optimizer batch
    (serving.basket_splits holds all regions of the latest day)."""

    def get_partition_mapping(self, dbt_resource_props, dbt_parent_resource_props):
        if dbt_parent_resource_props.get("meta", {}).get("dagster", {}).get("asset_key") == list(
            BATCH_ASSET_KEY.path
        ):
            return dg.AllPartitionMapping()
        return super().get_partition_mapping(dbt_resource_props, dbt_parent_resource_props)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=CatalogDbtTranslator(),
    project=dbt_project,
    select="tag:catalog",
    name="catalog_dbt_models",
    partitions_def=scrape_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="dbt_catalog",  # one catalog dbt build at a time across runs (dagster.yaml: pools default_limit 1)
)
def catalog_dbt_models(
    context: dg.AssetExecutionContext, dbt: WarehouseDbtCliResource, warehouse: WarehouseResource
):
    """`dbt build --target catalog` over the run's days: staging, matching, catalog marts, with their tests."""
    window_vars = window_vars_for(context)
    # The run's log says which days this build rewrites (dbt's own log echoes the --vars too).
    context.log.info(f"dbt day window vars: {window_vars or 'none (all history)'}")
    yield from dbt.build(warehouse.settings(), window_vars, context=context).stream()
