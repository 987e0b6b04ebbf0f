"""Parquet deliveries: stream mart tables out of Postgres into parquet with a manifest.

Rows leave Postgres through the ADBC PostgreSQL driver, which runs COPY ... TO STDOUT
(FORMAT binary) and decodes straight into Arrow record batches, so memory stays flat
whatever the table size (DuckDB's postgres extension is not available offline here).
A delivery is written into a `.partial` folder and renamed into place at the end: a
folder without `.partial` is always complete. `verify_delivery` is the buyer's check.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = "1"


class DeliveryError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeliveryTable:
    """One table of a delivery: its file name and the query that produces it."""

    name: str
    query: str


def _decimal_type(typmod: int) -> pa.DataType:
    """Postgres numeric(p, s) typmod -> Arrow decimal128; unconstrained numeric -> float64."""
    if typmod < 4:
        return pa.float64()
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    return pa.decimal128(precision, scale)


def _arrow_friendly(schema: pa.Schema) -> tuple[pa.Schema, list[int]]:
    """Replace ADBC's opaque numeric columns by decimals; return the target schema and columns to cast."""
    fields, to_cast = [], []
    for index, field in enumerate(schema):
        meta = field.metadata or {}
        if meta.get(b"POSTGRESQL:type") == b"numeric":
            typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
            fields.append(pa.field(field.name, _decimal_type(typmod), nullable=field.nullable))
            to_cast.append(index)
        else:
            fields.append(pa.field(field.name, field.type, nullable=field.nullable))
    return pa.schema(fields), to_cast


def _convert(batch: pa.RecordBatch, target: pa.Schema, to_cast: list[int]) -> pa.RecordBatch:
    columns = list(batch.columns)
    for index in to_cast:
        column = columns[index]
        storage = column.storage if isinstance(column, pa.ExtensionArray) else column
        columns[index] = pc.cast(storage, target.field(index).type)
    return pa.RecordBatch.from_arrays(columns, schema=target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _adbc_uri(url: str) -> str:
    # ADBC/libpq accepts the URL as is; drop our psycopg-only query options.
    return url.split("?", 1)[0]


def export_table(url: str, table: DeliveryTable, path: Path) -> dict:
    """Stream one query into a zstd parquet file; return its manifest entry (without path)."""
    import adbc_driver_postgresql.dbapi as adbc

    rows = 0
    with adbc.connect(_adbc_uri(url)) as conn, conn.cursor() as cursor:
        cursor.execute(table.query)
        reader = cursor.fetch_record_batch()
        target, to_cast = _arrow_friendly(reader.schema)
        with pq.ParquetWriter(path, target, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(_convert(batch, target, to_cast))
                rows += batch.num_rows
    return {
        "table": table.name,
        "rows": rows,
        "columns": [{"name": f.name, "type": str(f.type)} for f in target],
    }


def write_delivery(
    url: str,
    product: str,
    tables: list[DeliveryTable],
    deliveries_dir: Path,
    model_versions: dict[str, str] | None = None,
) -> Path:
    """Write a complete delivery folder for `product`; return its path."""
    generated_at = datetime.now(UTC)
    delivery_id = generated_at.strftime("%Y%m%dT%H%M%S%fZ")
    final_dir = deliveries_dir / product / delivery_id
    partial_dir = final_dir.with_name(final_dir.name + ".partial")
    (partial_dir / "data").mkdir(parents=True, exist_ok=False)
    try:
        files = []
        for table in tables:
            relative = Path("data") / f"{table.name}.parquet"
            entry = export_table(url, table, partial_dir / relative)
            file_path = partial_dir / relative
            files.append(
                {
                    "path": str(relative),
                    **entry,
                    "bytes": file_path.stat().st_size,
                    "sha256": _sha256(file_path),
                }
            )
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "product": product,
            "delivery_id": delivery_id,
            "generated_at": generated_at.isoformat(),
            "model_versions": model_versions or {},
            "files": files,
        }
        (partial_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(partial_dir, final_dir)
    except BaseException:
        shutil.rmtree(partial_dir, ignore_errors=True)
        raise
    latest = deliveries_dir / product / "latest"
    tmp_link = latest.with_name("latest.tmp")
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(delivery_id)
    os.replace(tmp_link, latest)
    return final_dir


def verify_delivery(path: Path) -> list[str]:
    """Check every file of a delivery against its manifest; return the problems found (empty = valid)."""
    path = Path(path)
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        return [f"{manifest_path}: no manifest.json here; pass the delivery folder that holds it"]
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (json.JSONDecodeError, KeyError) as exc:
        return [f"{manifest_path}: unreadable manifest ({exc})"]
    problems = []
    for entry in files:
        file_path = path / entry["path"]
        if not file_path.is_file():
            problems.append(f"{entry['path']}: missing")
            continue
        if file_path.stat().st_size != entry["bytes"]:
            problems.append(
                f"{entry['path']}: {file_path.stat().st_size} bytes, manifest says {entry['bytes']}"
            )
        if _sha256(file_path) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 mismatch (file changed or corrupted)")
            continue
        try:
            parquet = pq.ParquetFile(file_path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a problem to report
            problems.append(f"{entry['path']}: not readable as parquet ({exc})")
            continue
        if parquet.metadata.num_rows != entry["rows"]:
            problems.append(
                f"{entry['path']}: {parquet.metadata.num_rows} rows, manifest says {entry['rows']}"
            )
        actual = [{"name": f.name, "type": str(f.type)} for f in parquet.schema_arrow]
        if "columns" in entry and actual != entry["columns"]:
            problems.append(f"{entry['path']}: schema differs from manifest: {actual} != {entry['columns']}")
    return problems
