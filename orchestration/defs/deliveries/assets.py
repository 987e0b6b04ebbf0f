"""Deliveries: the catalog mart as verified parquet, behind blocking quality checks."""

import datetime as dt
import json

import dagster as dg
from pydantic import Field

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.resources import WarehouseResource
from warehouse.deliveries import DeliveryTable, verify_delivery, write_delivery
from warehouse.quality.reports import QualityGateFailed, latest_quality_report

# Deliveries read with the buyer's own role: a delivery can hold nothing a buyer may not read.
DELIVERY_ROLE = "smartcart_catalog_buyer"

CATALOG_TABLES = [
    DeliveryTable(
        "dim_store", "select * from catalog.dim_store order by store_key", primary_key=("store_key",)
    ),
    DeliveryTable(
        "dim_product", "select * from catalog.dim_product order by product_key", primary_key=("product_key",)
    ),
    DeliveryTable(
        "fct_prices_daily",
        # No ORDER BY: facts are stored day by day, and sorting 30M rows would double the cost.
        "select * from catalog.fct_prices_daily",
        partition_by="price_date",
        delta_query="select * from catalog.fct_prices_daily where price_date = {day}",
        primary_key=("price_id",),
    ),
]


TRENDS_DELIVERY_ROLE = "smartcart_trends_buyer"
WEEKLY_TRENDS = (
    "trends_category_demand_weekly",
    "trends_basket_spend_bands",
    "trends_store_choice",
    "trends_split_savings",
)
TRENDS_TABLES = [
    DeliveryTable(
        name, f"select * from trends.{name}", partition_by="week_start" if name in WEEKLY_TRENDS else None
    )
    for name in (
        "trends_category_demand_weekly",
        "trends_substitution_flows",
        "trends_basket_spend_bands",
        "trends_basket_composition",
        "trends_store_choice",
        "trends_split_savings",
    )
]


class CatalogDeliveryConfig(dg.Config):
    kind: str = Field(default="snapshot", description="snapshot (every row) or delta (one day's facts).")
    day: str | None = Field(default=None, description="Day of a delta (YYYY-MM-DD); default yesterday.")


def delivery_metadata(path) -> dict:
    manifest = json.loads((path / "manifest.json").read_text())
    return {
        "path": dg.MetadataValue.path(str(path)),
        "kind": manifest["kind"],
        "files": len(manifest["files"]),
        "rows": sum(f["rows"] for f in manifest["files"]),
        "bytes": sum(f["bytes"] for f in manifest["files"]),
        **{
            f"rows_{table}": sum(f["rows"] for f in manifest["files"] if f["table"] == table)
            for table in {f["table"] for f in manifest["files"]}
        },
    }


def ship(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    product: str,
    tables: list[DeliveryTable],
    source: tuple[str, str],
    kind: str = "snapshot",
    day: dt.date | None = None,
) -> dg.MaterializeResult:
    """Quality gate, then write the delivery as the buyer's role (`source` = database, role), then verify it."""
    settings = warehouse.settings()
    try:
        quality_report = latest_quality_report(settings, product, context.run_id)
    except QualityGateFailed as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    path = write_delivery(
        warehouse.url(*source),
        product,
        tables,
        settings.deliveries_dir,
        kind=kind,
        day=day,
        dbt_manifest=dbt_project.manifest_path,
        quality_report=quality_report,
    )
    problems = verify_delivery(path)
    if problems:
        raise dg.Failure(f"delivery {path} failed its own verification: {problems}")
    return dg.MaterializeResult(metadata=delivery_metadata(path))


@dg.asset(
    deps=[dg.AssetKey(["catalog", t.name]) for t in CATALOG_TABLES],
    group_name="deliveries",
    kinds={"parquet", "duckdb"},
    backfill_policy=dg.BackfillPolicy.single_run(),  # a backfill ships one delivery, not one per day
)
def catalog_delivery(
    context: dg.AssetExecutionContext, config: CatalogDeliveryConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The catalog mart as zstd parquet (facts split by date) with manifest, datapackage,
    data contract, data dictionary, DuckDB views and the quality report."""
    day = None
    if config.kind == "delta":
        day = dt.date.fromisoformat(config.day) if config.day else dt.date.today() - dt.timedelta(days=1)
    return ship(context, warehouse, "catalog", CATALOG_TABLES, ("catalog", DELIVERY_ROLE), config.kind, day)


@dg.asset(
    deps=[dg.AssetKey(["trends", t.name]) for t in TRENDS_TABLES],
    group_name="deliveries",
    kinds={"parquet", "duckdb"},
)
def trends_delivery(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The trends mart as a weekly snapshot: aggregates only, every cell >= k shoppers, checked
    for identifiers by value before it ships (the privacy gate), read as the trends buyer."""
    return ship(context, warehouse, "trends", TRENDS_TABLES, ("behavior", TRENDS_DELIVERY_ROLE))
