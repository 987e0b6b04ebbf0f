"""Parquet deliveries: what buyers receive, with its own proof.

A delivery folder holds `data/<table>/part-*.parquet` (zstd; a time series has one file per
day, the date inside the files), `datapackage.json` (Frictionless), `contract.yaml` (ODCS v3),
`README.md` (data dictionary from the dbt docs), `load.sql` (views over the parquet),
`<product>.duckdb` (the tables), `quality_report/` (the run's Great Expectations Data Docs) and
`manifest.json`, which lists every other file with its bytes and sha256 (parquet files also
with rows and schema) and, per table, its keys and how a delta merges into a snapshot.

Deliveries go to a local folder or any fsspec URL (storage.py); either way a delivery appears
complete or not at all, and the `latest` pointers move last. `verify_delivery` is the buyer's check.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from warehouse.platform.config import DEFAULT_K_THRESHOLD
from warehouse.publishing.deliveries import documents
from warehouse.publishing.deliveries.documents import ShippedTable
from warehouse.publishing.deliveries.export import export_query, sha256_of
from warehouse.publishing.deliveries.products import DeliveryTable, ForeignKey, delivery_tables
from warehouse.publishing.deliveries.storage import (
    MANIFEST_NAME,
    Location,
    StorageError,
    move_pointer,
    publish_remote,
)

__all__ = [
    "DeliveryError",
    "DeliveryTable",
    "ForeignKey",
    "delivery_tables",
    "publish",
    "write_documents",
    "verify_delivery",
    "write_delivery",
]

MANIFEST_VERSION = "3"


class DeliveryError(RuntimeError):
    pass


def _file_entry(root: Path, relative: str) -> dict:
    path = root / relative
    return {"path": relative, "bytes": path.stat().st_size, "sha256": sha256_of(path)}


def parquet_entry(root: Path, path: Path, table: str, rows: int) -> dict:
    schema = pq.read_schema(path)
    return {
        **_file_entry(root, path.relative_to(root).as_posix()),
        "table": table,
        "rows": rows,
        "columns": [{"name": f.name, "type": str(f.type)} for f in schema],
    }


def _merge_rule(table: DeliveryTable, kind: str, day: date | None) -> dict:
    """How this table's files combine with a snapshot: named in every manifest, used by `apply`."""
    if kind == "delta" and table.partition_by:
        return {
            "mode": "replace_partition",
            "merge_key": list(table.merge_key),
            "partition_by": table.partition_by,
            "partition_value": day.isoformat() if day else None,
        }
    return {"mode": "replace_table", "merge_key": list(table.merge_key)}


def _new_delivery_id(kind: str, day: date | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return stamp if kind == "snapshot" else f"{stamp}-delta-{day}"


def _staging_dir(destination: Location, product: str, delivery_id: str) -> Path:
    if destination.is_local:
        # beside its final place, so publishing is one rename on the same filesystem
        staging = Path(destination.join(product, delivery_id + ".partial"))
        staging.mkdir(parents=True, exist_ok=False)
        return staging
    return Path(tempfile.mkdtemp(prefix=f"smartcart-{product}-{delivery_id}-"))


def contract_server(destination_url: str | None, product: str, delivery_id: str) -> dict:
    """The contract's `servers` entry: where datacontract-cli finds this delivery's parquet."""
    if destination_url and destination_url.startswith(("s3://", "s3a://")):
        return {
            "type": "s3",
            "format": "parquet",
            "location": f"{destination_url}/{product}/{delivery_id}/data/{{model}}/*.parquet",
        }
    # A local delivery (or one copied down from elsewhere) is tested from its own folder.
    return {"type": "local", "format": "parquet", "path": "./data/{model}/*.parquet"}


def write_documents(
    staging: Path,
    product: str,
    delivery_id: str,
    shipped: list[ShippedTable],
    kind: str,
    day: date | None,
    version: str,
    quality_report: Path | None,
    server: dict,
    generated_at: datetime | None = None,
    k_threshold: int = DEFAULT_K_THRESHOLD,
) -> dict:
    """Write the documents, the DuckDB file and, last, the manifest of every file into `staging`."""
    generated_at = generated_at or datetime.now(UTC)
    documents.duckdb_file(staging / f"{product}.duckdb", staging, shipped)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "product": product,
        "version": version,
        "kind": kind,
        "day": day.isoformat() if day else None,
        "delivery_id": delivery_id,
        "generated_at": generated_at.isoformat(),
        "tables": [
            {
                "name": s.name,
                "rows": s.rows,
                "primary_key": list(s.table.primary_key),
                "partition_by": s.table.partition_by,
                "merge": _merge_rule(s.table, kind, day),
            }
            for s in shipped
        ],
    }
    (staging / "datapackage.json").write_text(
        json.dumps(documents.datapackage(product, delivery_id, shipped), indent=2) + "\n"
    )
    (staging / "contract.yaml").write_text(
        documents.data_contract(product, version, shipped, server, k_threshold)
    )
    (staging / "README.md").write_text(documents.readme(product, manifest, shipped))
    (staging / "load.sql").write_text(documents.load_sql(shipped))
    if quality_report is not None and quality_report.exists():
        shutil.copytree(quality_report, staging / "quality_report")
    parquet = [entry for s in shipped for entry in s.files]
    listed = {entry["path"] for entry in parquet}
    others = sorted(
        p.relative_to(staging).as_posix()
        for p in staging.rglob("*")
        if p.is_file() and p.relative_to(staging).as_posix() not in listed | {MANIFEST_NAME}
    )
    manifest["files"] = parquet + [_file_entry(staging, relative) for relative in others]
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def publish(
    staging: Path, destination: Location, product: str, delivery_id: str, kind: str, day: str | None
) -> str:
    """Move a finished staging folder into place (rename locally, upload remotely), then the pointer."""
    product_location = destination.child(product)
    if destination.is_local:
        final = Path(destination.join(product, delivery_id))
        staging.rename(final)
        published = str(final)
    else:
        try:
            published = publish_remote(staging, product_location, delivery_id).url
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    move_pointer(product_location, kind, delivery_id, day)
    return published


def write_delivery(
    url: str,
    product: str,
    tables: list[DeliveryTable],
    deliveries: str | Path,
    kind: str = "snapshot",
    day: date | None = None,
    quality_report: Path | None = None,
    version: str = "1.0.0",
    k_threshold: int = DEFAULT_K_THRESHOLD,
) -> str | Path:
    """Write a complete delivery of `product` under `deliveries` (a folder or URL); return where it is.

    kind="snapshot": every row of every table. kind="delta": the rows of `day` for tables
    split by a date column, the others whole (dimensions are small and ids stay stable).
    Returns a Path for a local destination, the URL otherwise.
    """
    if kind not in ("snapshot", "delta"):
        raise DeliveryError(f"unknown delivery kind {kind!r}: use 'snapshot' or 'delta'")
    if kind == "delta" and day is None:
        raise DeliveryError("a delta delivery needs the day it covers")
    if not tables:
        raise DeliveryError(f"{product}: no tables to ship; flag the mart models with meta.delivery")
    try:
        destination = Location.of(deliveries)
    except StorageError as exc:
        raise DeliveryError(str(exc)) from exc
    delivery_id = _new_delivery_id(kind, day)
    staging = _staging_dir(destination, product, delivery_id)
    try:
        shipped = []
        for table in tables:
            use_delta = kind == "delta" and table.partition_by is not None and table.delta_query is not None
            # `day` is a datetime.date, so the literal below cannot carry anything but a date.
            query = (
                table.delta_query.replace("{day}", f"date '{day.isoformat()}'") if use_delta else table.query
            )
            schema, written = export_query(
                url,
                query,
                staging / "data",
                table.name,
                table.partition_by,
                unique_columns=table.primary_key if len(table.primary_key) == 1 else (),
            )
            files = [parquet_entry(staging, path, table.name, rows) for path, rows in written]
            shipped.append(ShippedTable(table, schema, files))
        day_tables = [s for s in shipped if kind == "delta" and s.table.partition_by]
        if day_tables and not any(s.rows for s in day_tables):
            # A day with no facts at all was not built (or not crawled): an empty delta would
            # tell the buyer the day's rows were all deleted.
            raise DeliveryError(
                f"{product}: no table has rows for {day}; nothing shipped (build that day first, or ship a snapshot)"
            )
        server = contract_server(None if destination.is_local else destination.url, product, delivery_id)
        manifest = write_documents(
            staging,
            product,
            delivery_id,
            shipped,
            kind,
            day,
            version,
            quality_report,
            server,
            k_threshold=k_threshold,
        )
        published = publish(staging, destination, product, delivery_id, kind, manifest["day"])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Path(published) if destination.is_local else published


def verify_delivery(path: str | Path) -> list[str]:
    """Check every file of a delivery (a folder or URL) against its manifest; return the problems (empty = valid).

    Any file added, missing or changed is named, whatever its type: parquet, documents,
    the .duckdb file, the quality report.
    """
    try:
        location = Location.of(path)
    except StorageError as exc:
        return [str(exc)]
    try:
        manifest = json.loads(location.read_text(MANIFEST_NAME))
        files = manifest["files"]
    except FileNotFoundError:
        return [f"{location.url}/{MANIFEST_NAME}: no manifest here; pass the delivery folder that holds it"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        return [f"{location.url}/{MANIFEST_NAME}: unreadable manifest ({exc})"]
    problems = []
    on_store = set(location.relative_files()) - {MANIFEST_NAME}
    for entry in files:
        relative = entry["path"]
        if relative not in on_store:
            problems.append(f"{relative}: missing")
            continue
        full = location.join(relative)
        size = location.fs.size(full)
        if size != entry["bytes"]:
            problems.append(f"{relative}: {size} bytes, manifest says {entry['bytes']}")
        with location.fs.open(full, "rb") as handle:
            digest = _sha256_stream(handle)
        if digest != entry["sha256"]:
            problems.append(f"{relative}: sha256 mismatch (file changed or corrupted)")
            continue
        if "rows" not in entry:
            continue
        try:
            with location.fs.open(full, "rb") as handle:
                parquet = pq.ParquetFile(handle)
                rows, actual = (
                    parquet.metadata.num_rows,
                    [{"name": f.name, "type": str(f.type)} for f in parquet.schema_arrow],
                )
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a problem to report
            problems.append(f"{relative}: not readable as parquet ({exc})")
            continue
        if rows != entry["rows"]:
            problems.append(f"{relative}: {rows} rows, manifest says {entry['rows']}")
        if "columns" in entry and actual != entry["columns"]:
            problems.append(f"{relative}: schema differs from manifest: {actual} != {entry['columns']}")
    for extra in sorted(on_store - {entry["path"] for entry in files}):
        problems.append(f"{extra}: not in the manifest (a file was added to the delivery)")
    return problems


def _sha256_stream(handle) -> str:
    import hashlib

    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()
