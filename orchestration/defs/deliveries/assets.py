"""Deliveries: the catalog mart as parquet with a manifest of row counts and sha256 checksums."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from warehouse.deliveries import DeliveryTable, verify_delivery, write_delivery

# Deliveries read with the buyer's own role: a delivery can hold nothing a buyer may not read.
DELIVERY_ROLE = "smartcart_catalog_buyer"

CATALOG_TABLES = [
    DeliveryTable("dim_store", "select * from catalog.dim_store order by store_key"),
    DeliveryTable("dim_product", "select * from catalog.dim_product order by product_key"),
    DeliveryTable(
        "fct_prices_daily",
        "select * from catalog.fct_prices_daily order by price_date, store_key, product_key",
    ),
]


@dg.asset(
    deps=[dg.AssetKey(["catalog", t.name]) for t in CATALOG_TABLES],
    group_name="deliveries",
    kinds={"parquet"},
)
def catalog_delivery(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """A parquet (zstd) delivery of the catalog mart with manifest.json (files, rows, bytes, sha256)."""
    settings = warehouse.settings()
    path = write_delivery(
        warehouse.url("catalog", DELIVERY_ROLE), "catalog", CATALOG_TABLES, settings.deliveries_dir
    )
    problems = verify_delivery(path)
    if problems:
        raise dg.Failure(f"delivery {path} failed its own verification: {problems}")
    import json

    manifest = json.loads((path / "manifest.json").read_text())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "files": len(manifest["files"]),
            "rows": sum(f["rows"] for f in manifest["files"]),
            "bytes": sum(f["bytes"] for f in manifest["files"]),
            **{f"rows_{f['table']}": f["rows"] for f in manifest["files"]},
        }
    )
