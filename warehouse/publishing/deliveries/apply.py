"""Apply a delta delivery to a snapshot: the buyer's way to the next snapshot without a full download.

Each table of a delta names its merge in manifest.json:

* `replace_table`: the delta ships the table whole (dimensions); it replaces the snapshot's.
* `replace_partition`: the delta ships every row of one day (`partition_by = partition_value`).
  The snapshot's rows of that day are dropped, as are rows whose `merge_key` reappears in the
  delta (a key that moved day), and the delta's rows are added. Files of untouched days are
  copied byte for byte.

The result is a complete snapshot delivery (documents, DuckDB file, manifest) that verifies.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.publishing.deliveries import (
    DeliveryError,
    contract_server,
    parquet_entry,
    verify_delivery,
    write_documents,
)
from warehouse.publishing.deliveries.documents import ShippedTable
from warehouse.publishing.deliveries.products import DeliveryTable, ForeignKey
from warehouse.publishing.deliveries.storage import MANIFEST_NAME, Location


def _read_manifest(location: Location) -> dict:
    problems = verify_delivery(location.url)
    if problems:
        raise DeliveryError(
            f"{location.url} does not verify, so it cannot be applied: " + "; ".join(problems[:5])
        )
    return json.loads(location.read_text(MANIFEST_NAME))


def _tables_from_package(location: Location, manifest: dict) -> dict[str, DeliveryTable]:
    """Rebuild each table's definition (keys, docs, merge rule) from a delivery's own documents."""
    package = json.loads(location.read_text("datapackage.json"))
    rules = {t["name"]: t for t in manifest["tables"]}
    tables = {}
    for resource in package["resources"]:
        schema = resource["schema"]
        rule = rules[resource["name"]]
        tables[resource["name"]] = DeliveryTable(
            name=resource["name"],
            query="",
            partition_by=rule.get("partition_by"),
            primary_key=tuple(schema.get("primaryKey", ())),
            merge_key=tuple(rule["merge"]["merge_key"]),
            foreign_keys=tuple(
                ForeignKey(tuple(k["fields"]), k["reference"]["resource"], tuple(k["reference"]["fields"]))
                for k in schema.get("foreignKeys", ())
            ),
            description=resource.get("description", ""),
            column_descriptions={f["name"]: f.get("description", "") for f in schema["fields"]},
        )
    return tables


def _key_strings(table: pa.Table, key: tuple[str, ...]) -> pa.Array:
    """One comparable string per row for a (possibly composite) merge key."""
    parts = [pc.cast(table.column(c), pa.string()) for c in key]
    return pc.binary_join_element_wise(*[pc.fill_null(p, "\x00") for p in parts], "\x1f")


def _download(location: Location, relative: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    location.fs.get_file(location.join(relative), str(target))


def apply_delta(delta_url: str | Path, snapshot_url: str | Path, out: Path) -> Path:
    """Write the snapshot that `delta` applied to `snapshot` gives, as a delivery folder at `out`."""
    delta, snapshot = Location.of(delta_url), Location.of(snapshot_url)
    delta_manifest, snapshot_manifest = _read_manifest(delta), _read_manifest(snapshot)
    if delta_manifest["kind"] != "delta" or snapshot_manifest["kind"] != "snapshot":
        raise DeliveryError(
            f"apply takes a delta then a snapshot; got a {delta_manifest['kind']} and a {snapshot_manifest['kind']}"
        )
    if delta_manifest["product"] != snapshot_manifest["product"]:
        raise DeliveryError(
            f"the delta is of {delta_manifest['product']}, the snapshot of {snapshot_manifest['product']}"
        )
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DeliveryError(f"{out} is not empty: pass a new folder to --out")
    out.mkdir(parents=True, exist_ok=True)
    definitions = {
        **_tables_from_package(snapshot, snapshot_manifest),
        **_tables_from_package(delta, delta_manifest),
    }
    delta_rules = {t["name"]: t["merge"] for t in delta_manifest["tables"]}
    shipped: list[ShippedTable] = []
    try:
        for table_entry in snapshot_manifest["tables"]:
            name = table_entry["name"]
            table = definitions[name]
            rule = delta_rules.get(name)
            delta_files = [f for f in delta_manifest["files"] if f.get("table") == name]
            snapshot_files = [f for f in snapshot_manifest["files"] if f.get("table") == name]
            written: list[Path] = []
            if rule is None:  # not in the delta: unchanged
                keep, add = snapshot_files, []
            elif rule["mode"] == "replace_table":
                keep, add = [], delta_files
            else:
                keep, add = snapshot_files, delta_files
            for entry in add:
                target = out / entry["path"]
                _download(delta, entry["path"], target)
                written.append(target)
            if rule is not None and rule["mode"] == "replace_partition":
                written += _merge_kept_files(snapshot, keep, delta, delta_files, rule, out)
            else:
                for entry in keep:
                    target = out / entry["path"]
                    _download(snapshot, entry["path"], target)
                    written.append(target)
            written = sorted(set(written))
            files = [
                parquet_entry(out, path, name, pq.ParquetFile(path).metadata.num_rows) for path in written
            ]
            files = _drop_empty_placeholder(out, files)
            shipped.append(ShippedTable(table, pq.read_schema(out / files[0]["path"]), files))
        report = None
        if delta.fs.exists(delta.join("quality_report")):
            report = out.parent / f".{out.name}.quality_report"
            delta.fs.get(delta.join("quality_report"), str(report), recursive=True)
        day = date.fromisoformat(delta_manifest["day"])
        delivery_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-applied-{day}"
        write_documents(
            out,
            snapshot_manifest["product"],
            delivery_id,
            shipped,
            "snapshot",
            None,
            snapshot_manifest["version"],
            report,
            contract_server(None, snapshot_manifest["product"], delivery_id),
        )
        if report is not None:
            shutil.rmtree(report, ignore_errors=True)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def _drop_empty_placeholder(out: Path, files: list[dict]) -> list[dict]:
    """An empty table's placeholder file goes once the table has rows elsewhere."""
    if len(files) > 1:
        for entry in [f for f in files if f["rows"] == 0]:
            (out / entry["path"]).unlink()
            files.remove(entry)
    return files


def _merge_kept_files(
    snapshot: Location, keep: list[dict], delta: Location, delta_files: list[dict], rule: dict, out: Path
) -> list[Path]:
    """The snapshot's files of a replace_partition table, minus the delta's day and its merge keys."""
    day, column, key = rule["partition_value"], rule["partition_by"], tuple(rule["merge_key"])
    delta_keys = set()
    for entry in delta_files:
        with delta.fs.open(delta.join(entry["path"]), "rb") as handle:
            delta_keys |= set(_key_strings(pq.read_table(handle, columns=list(key)), key).to_pylist())
    written = []
    for entry in keep:
        target = out / entry["path"]
        if target.exists():
            continue  # the delta's own file for its day replaced it already
        with snapshot.fs.open(snapshot.join(entry["path"]), "rb") as handle:
            rows = pq.read_table(handle)
        days = pc.cast(rows.column(column), pa.string())
        stale = pc.fill_null(pc.equal(days, day), False)
        if delta_keys:
            stale = pc.or_(stale, pc.is_in(_key_strings(rows, key), pa.array(sorted(delta_keys))))
        if not pc.any(stale).as_py():
            _download(snapshot, entry["path"], target)  # untouched day: the same bytes
        else:
            remaining = rows.filter(pc.invert(stale))
            if remaining.num_rows == 0:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(remaining, target, compression="zstd", store_decimal_as_integer=True)
        written.append(target)
    return written
