"""The nightly backup as an asset: one backup set per materialization, its size and time as metadata."""

import dagster as dg

from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from warehouse.platform.backup import backup


@dg.asset(
    key=["operations", "database_backup"],
    group_name="operations",
    owners=owners_of("ops"),
    kinds={"postgres"},
    description=(
        "pg_dump -Fc of the vault, catalog, behavior and Dagster databases as smartcart_backup, "
        "with a manifest (sizes, sha256, server version, migration level); older sets beyond "
        "SMARTCART_BACKUP_KEEP are removed. Restore with `smartcart db restore SET_FOLDER`."
    ),
)
def database_backup(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    result = backup(warehouse.settings())
    seconds = sum(item.duration_seconds for item in result.databases.values())
    context.log.info(f"backup set {result.directory}: {result.total_bytes} bytes in {seconds:.1f}s")
    metadata: dict[str, dg.MetadataValue] = {
        "backup_set": dg.MetadataValue.path(str(result.directory)),
        "size_bytes": dg.MetadataValue.int(result.total_bytes),
        "duration_seconds": dg.MetadataValue.float(round(seconds, 3)),
        "server_version": dg.MetadataValue.text(result.server_version),
        "removed_by_retention": dg.MetadataValue.int(len(result.removed)),
    }
    for item in result.databases.values():
        metadata[f"{item.database}_bytes"] = dg.MetadataValue.int(item.bytes)
        metadata[f"{item.database}_migration_level"] = dg.MetadataValue.text(item.migration_level or "-")
    return dg.MaterializeResult(metadata=metadata)
