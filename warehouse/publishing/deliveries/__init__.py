"""Parquet deliveries: what buyers receive, with its own proof.

A delivery folder holds `data/` (zstd parquet; time series split by date), `manifest.json`
(product, version, kind, generated_at, model versions, every file with rows, bytes, sha256
and schema), `datapackage.json` (Frictionless), `contract.yaml` (Open Data Contract
Standard), a `README.md` data dictionary from the dbt docs, `<product>.duckdb` with a view
per table, and `quality_report/` (the run's Great Expectations Data Docs).

It is written into a `.partial` folder and renamed into place at the end: a folder without
`.partial` is always complete. `verify_delivery` is the buyer's check.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from warehouse.publishing.deliveries import documents
from warehouse.publishing.deliveries.export import DeliveryTable, export_query, sha256_of

__all__ = ["DeliveryError", "DeliveryTable", "verify_delivery", "write_delivery"]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = "2"
DOCUMENTS = ("datapackage.json", "contract.yaml", "README.md")


class DeliveryError(RuntimeError):
    pass


def _file_entry(root: Path, path: Path, table: str, rows: int) -> dict:
    schema = pq.read_schema(path)
    return {
        "path": str(path.relative_to(root)),
        "table": table,
        "rows": rows,
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
        "columns": [{"name": f.name, "type": str(f.type)} for f in schema],
    }


def write_delivery(
    url: str,
    product: str,
    tables: list[DeliveryTable],
    deliveries_dir: Path,
    kind: str = "snapshot",
    day: date | None = None,
    dbt_manifest: Path | None = None,
    quality_report: Path | None = None,
    version: str = "1.0.0",
) -> Path:
    """Write a complete delivery folder for `product` and return its path.

    kind="snapshot": every row of every table. kind="delta": the rows of `day` for tables
    with a `delta_query`, the others whole (dimensions are small and ids stay stable).
    """
    if kind not in ("snapshot", "delta"):
        raise DeliveryError(f"unknown delivery kind {kind!r}: use 'snapshot' or 'delta'")
    if kind == "delta" and day is None:
        raise DeliveryError("a delta delivery needs the day it covers")
    generated_at = datetime.now(UTC)
    delivery_id = generated_at.strftime("%Y%m%dT%H%M%S%fZ") + ("" if kind == "snapshot" else f"-delta-{day}")
    final_dir = deliveries_dir / product / delivery_id
    partial_dir = final_dir.with_name(final_dir.name + ".partial")
    (partial_dir / "data").mkdir(parents=True, exist_ok=False)
    docs = documents.dbt_docs(dbt_manifest)
    try:
        files, described = [], []
        for table in tables:
            use_delta = kind == "delta" and table.delta_query
            # `day` is a datetime.date, so the literal below cannot carry anything but a date.
            query = (
                table.delta_query.replace("{day}", f"date '{day.isoformat()}'") if use_delta else table.query
            )
            schema, written = export_query(
                url,
                query,
                partial_dir / "data",
                table.name,
                table.partition_by,
                ship_empty=not use_delta,
                unique_columns=table.primary_key if len(table.primary_key) == 1 else (),
            )
            if not written:
                raise DeliveryError(
                    f"{product}: table {table.name} has no rows for {day or 'this delivery'}; nothing shipped"
                )
            entries = [_file_entry(partial_dir, path, table.name, rows) for path, rows in written]
            files += entries
            described.append(
                {
                    "name": table.name,
                    "rows": sum(e["rows"] for e in entries),
                    "files": entries,
                    "partition_by": table.partition_by,
                    "primary_key": table.primary_key,
                    "columns": [{"name": f.name, "arrow_type": f.type} for f in schema],
                }
            )
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "product": product,
            "version": version,
            "kind": kind,
            "day": day.isoformat() if day else None,
            "delivery_id": delivery_id,
            "generated_at": generated_at.isoformat(),
            "model_versions": {t.name: docs.get(t.name, {}).get("checksum", "") for t in tables},
            "files": files,
        }
        (partial_dir / "datapackage.json").write_text(
            json.dumps(documents.datapackage(product, delivery_id, described, docs), indent=2) + "\n"
        )
        (partial_dir / "contract.yaml").write_text(documents.data_contract(product, version, described, docs))
        (partial_dir / "README.md").write_text(documents.readme(product, manifest, described, docs))
        documents.duckdb_file(partial_dir / f"{product}.duckdb", described)
        if quality_report is not None and quality_report.exists():
            shutil.copytree(quality_report, partial_dir / "quality_report")
        manifest["documents"] = [
            {
                "path": name,
                "bytes": (partial_dir / name).stat().st_size,
                "sha256": sha256_of(partial_dir / name),
            }
            for name in DOCUMENTS
        ]
        (partial_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(partial_dir, final_dir)
    except BaseException:
        shutil.rmtree(partial_dir, ignore_errors=True)
        raise
    latest = deliveries_dir / product / ("latest" if kind == "snapshot" else "latest-delta")
    tmp_link = latest.with_name(latest.name + ".tmp")
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
    for entry in files + manifest.get("documents", []):
        file_path = path / entry["path"]
        if not file_path.is_file():
            problems.append(f"{entry['path']}: missing")
            continue
        if file_path.stat().st_size != entry["bytes"]:
            problems.append(
                f"{entry['path']}: {file_path.stat().st_size} bytes, manifest says {entry['bytes']}"
            )
        if sha256_of(file_path) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 mismatch (file changed or corrupted)")
            continue
        if "rows" not in entry:
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
    on_disk = (
        {str(p.relative_to(path)) for p in (path / "data").rglob("*.parquet")}
        if (path / "data").exists()
        else set()
    )
    for extra in sorted(on_disk - {entry["path"] for entry in files}):
        problems.append(f"{extra}: not in the manifest (a file was added to the delivery)")
    return problems
