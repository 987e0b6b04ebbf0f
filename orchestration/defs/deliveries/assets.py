"""Deliveries: both marts as verified parquet, behind the quality gate.

What ships is read from the dbt manifest (models flagged `meta.delivery.product`), so a new
sellable mart model ships by flagging it, never by editing a list here.
"""

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.owners import owners_of
from orchestration.defs.quality.gate import QualityGateFailed, read_verdicts
from orchestration.defs.resources import WarehouseResource
from warehouse.platform.access.roles import Role
from warehouse.publishing.deliveries import DeliveryTable, delivery_tables, verify_delivery, write_delivery
from warehouse.publishing.deliveries.storage import Location, delivery_destination
from warehouse.publishing.quality.reports import data_docs, privacy_problems

# Deliveries read with the buyer's own role: a delivery can hold nothing a buyer may not read.
PRODUCTS = {
    "catalog": ("catalog", Role.CATALOG_BUYER),
    "trends": ("behavior", Role.TRENDS_BUYER),
}
CATALOG_TABLES = delivery_tables(dbt_project.manifest_path, "catalog")
TRENDS_TABLES = delivery_tables(dbt_project.manifest_path, "trends")

PARTITION_TAG = "dagster/partition"
RANGE_END_TAG = "dagster/asset_partition_range_end"
BACKFILL_TAG = "dagster/backfill"


class CatalogDeliveryConfig(dg.Config):
    kind: str = Field(default="snapshot", description="snapshot (every row) or delta (one day's facts).")
    day: str | None = Field(default=None, description="Day of a delta (YYYY-MM-DD); default yesterday.")


def delivery_metadata(path: str, manifest: dict) -> dict:
    return {
        "path": dg.MetadataValue.path(path),
        "kind": manifest["kind"],
        "day": manifest.get("day") or "",
        "files": len(manifest["files"]),
        "rows": sum(t["rows"] for t in manifest["tables"]),
        "bytes": sum(f["bytes"] for f in manifest["files"]),
        "dagster/row_count": sum(t["rows"] for t in manifest["tables"]),
        **{f"rows_{t['name']}": t["rows"] for t in manifest["tables"]},
    }


def newest_backfill_day(instance: dg.DagsterInstance, backfill_id: str) -> str | None:
    """The newest partition key a backfill targets (asset or job backfill); None if unknown."""
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        return None
    keys = list(backfill.partition_names or [])
    if backfill.asset_backfill_data is not None:
        keys += [
            entry.partition_key
            for entry in backfill.asset_backfill_data.target_subset.iterate_asset_partitions()
            if entry.partition_key
        ]
    return max(keys, default=None)


def run_window_day(tags: dict[str, str]) -> str | None:
    """The newest day of the run's partition window (one partition or a range)."""
    return tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)


def snapshot_or_delta(
    tags: dict[str, str], newest_in_backfill: str | None, kind: str, day: dt.date | None
) -> tuple[str, dt.date | None]:
    """A backfill ships one snapshot: the run holding its newest day. Its other runs ship a delta of their own day."""
    window_day = run_window_day(tags)
    if kind == "snapshot" and BACKFILL_TAG in tags and window_day and newest_in_backfill:
        if window_day < newest_in_backfill:
            return "delta", dt.date.fromisoformat(window_day[:10])
    return kind, day


def _quality_report(settings, product: str, verdicts, workdir: Path) -> Path:
    """The report that ships: the check verdicts from the event log, and their Data Docs if this machine has them."""
    import json

    report = workdir / "quality_report"
    docs = {v.run_id: data_docs(settings, product, v.run_id) for v in verdicts}
    found = next((d for d in docs.values() if d is not None), None)
    if found is not None:
        shutil.copytree(found, report)
    report.mkdir(parents=True, exist_ok=True)
    (report / "checks.json").write_text(json.dumps([v.as_json() for v in verdicts], indent=2) + "\n")
    return report


def ship(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    product: str,
    tables: list[DeliveryTable],
    kind: str = "snapshot",
    day: dt.date | None = None,
) -> dg.MaterializeResult:
    """Quality gate (event-log verdicts), then write the delivery as the buyer's role, then verify it."""
    settings = warehouse.settings()
    try:
        verdicts = read_verdicts(context.instance, product)
        if product == "trends" and (problems := privacy_problems(settings)):
            raise QualityGateFailed("trends delivery blocked by the privacy scan: " + " | ".join(problems))
    except QualityGateFailed as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    tags = dict(context.run.tags)
    newest = newest_backfill_day(context.instance, tags[BACKFILL_TAG]) if BACKFILL_TAG in tags else None
    kind, day = snapshot_or_delta(tags, newest, kind, day)
    if kind == "delta" and product != "catalog":
        return dg.MaterializeResult(
            metadata={"skipped": f"backfill run for {day}: the newest day ships the snapshot"}
        )
    database, role = PRODUCTS[product]
    with tempfile.TemporaryDirectory(prefix="smartcart-quality-") as workdir:
        path = write_delivery(
            warehouse.url(database, role),
            product,
            tables,
            delivery_destination(settings),
            kind=kind,
            day=day,
            quality_report=_quality_report(settings, product, verdicts, Path(workdir)),
            k_threshold=settings.k_threshold,
        )
    problems = verify_delivery(path)
    if problems:
        raise dg.Failure(f"delivery {path} failed its own verification: {problems}")
    import json

    manifest = json.loads(Location.of(path).read_text("manifest.json"))
    return dg.MaterializeResult(metadata=delivery_metadata(str(path), manifest))


@dg.asset(
    deps=[dg.AssetKey(["catalog", t.name]) for t in CATALOG_TABLES],
    group_name="deliveries",
    owners=owners_of("ops"),
    kinds={"parquet", "duckdb"},
)
def catalog_delivery(
    context: dg.AssetExecutionContext, config: CatalogDeliveryConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Every sellable table of the catalog mart as zstd parquet with manifest, datapackage,
    data contract, data dictionary, load.sql, a DuckDB file and the quality report."""
    day = None
    if config.kind == "delta":
        day = dt.date.fromisoformat(config.day) if config.day else dt.date.today() - dt.timedelta(days=1)
    return ship(context, warehouse, "catalog", CATALOG_TABLES, config.kind, day)


@dg.asset(
    deps=[dg.AssetKey(["trends", t.name]) for t in TRENDS_TABLES],
    group_name="deliveries",
    owners=owners_of("ops"),
    kinds={"parquet", "duckdb"},
)
def trends_delivery(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The trends mart as a weekly snapshot: aggregates only, every cell >= k shoppers, checked
    for identifiers by value before it ships (the privacy gate), read as the trends buyer."""
    return ship(context, warehouse, "trends", TRENDS_TABLES)
