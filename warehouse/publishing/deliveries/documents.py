"""The documents that travel with a delivery: datapackage.json (Frictionless), an Open Data
Contract Standard contract, a README data dictionary from the dbt docs, and a DuckDB file
with views over the parquet (relative paths, so the folder can be moved or copied)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import yaml


def dbt_docs(manifest_path: Path | None) -> dict[str, dict]:
    """model name -> {description, columns: {name: description}, checksum} from dbt's manifest.json."""
    if manifest_path is None or not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    docs = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        docs[node["name"]] = {
            "description": node.get("description", ""),
            "columns": {name: col.get("description", "") for name, col in node.get("columns", {}).items()},
            "checksum": node.get("checksum", {}).get("checksum", "")[:12],
        }
    return docs


def frictionless_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "datetime"
    return "string"


def odcs_logical_type(arrow_type: pa.DataType) -> str:
    return {
        "integer": "integer",
        "number": "number",
        "boolean": "boolean",
        "date": "date",
        "datetime": "date",
    }.get(frictionless_type(arrow_type), "string")


def datapackage(product: str, delivery_id: str, tables: list[dict], docs: dict) -> dict:
    resources = []
    for table in tables:
        model = docs.get(table["name"], {})
        resource = {
            "name": table["name"],
            "path": [f["path"] for f in table["files"]],
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "description": model.get("description", ""),
            "schema": {
                "fields": [
                    {
                        "name": c["name"],
                        "type": frictionless_type(c["arrow_type"]),
                        "description": model.get("columns", {}).get(c["name"], ""),
                    }
                    for c in table["columns"]
                ]
            },
        }
        if table.get("primary_key"):
            resource["schema"]["primaryKey"] = list(table["primary_key"])
        resources.append(resource)
    return {
        "profile": "data-package",
        "name": f"smartcart-{product}",
        "id": delivery_id,
        "title": f"SmartCart {product} delivery {delivery_id}",
        "resources": resources,
    }


def data_contract(product: str, version: str, tables: list[dict], docs: dict) -> str:
    """An Open Data Contract Standard (v3) document describing every column."""
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": f"smartcart-{product}",
        "name": f"SmartCart {product}",
        "version": version,
        "status": "active",
        "description": {
            "purpose": f"The SmartCart {product} data product, delivered as parquet.",
            "usage": "Open the delivery folder with DuckDB (the .duckdb file has a view per table).",
        },
        "schema": [
            {
                "name": table["name"],
                "physicalName": table["name"],
                "physicalType": "table",
                "description": docs.get(table["name"], {}).get("description", ""),
                "properties": [
                    {
                        "name": c["name"],
                        "logicalType": odcs_logical_type(c["arrow_type"]),
                        "physicalType": str(c["arrow_type"]),
                        "description": docs.get(table["name"], {}).get("columns", {}).get(c["name"], ""),
                        "primaryKey": c["name"] in table.get("primary_key", ()),
                    }
                    for c in table["columns"]
                ],
            }
            for table in tables
        ],
    }
    return yaml.safe_dump(contract, sort_keys=False)


def readme(product: str, manifest: dict, tables: list[dict], docs: dict) -> str:
    lines = [
        f"# SmartCart {product} delivery {manifest['delivery_id']}",
        "",
        f"Kind: **{manifest['kind']}**{' for ' + manifest['day'] if manifest.get('day') else ''}. "
        f"Generated {manifest['generated_at']}.",
        "",
        "## Open it",
        "",
        "```bash",
        f"cd <this folder> && duckdb {product}.duckdb   # then: select * from {tables[0]['name']} limit 5;",
        "smartcart delivery verify .                   # checks every file against manifest.json",
        "```",
        "",
        "`quality_report/index.html` is the Great Expectations report of the checks this delivery passed.",
        "",
        "## Data dictionary",
    ]
    for table in tables:
        model = docs.get(table["name"], {})
        lines += [
            "",
            f"### {table['name']} ({table['rows']} rows)",
            "",
            model.get("description", "") or "",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        for column in table["columns"]:
            description = model.get("columns", {}).get(column["name"], "").replace("\n", " ")
            lines.append(f"| {column['name']} | {column['arrow_type']} | {description} |")
    return "\n".join(lines) + "\n"


def duckdb_file(path: Path, tables: list[dict]) -> None:
    """A DuckDB database with one view per table over the delivery's parquet, by relative path."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        # Views bind their files when created: resolve the relative paths against the delivery
        # folder now (a session setting, not stored), so the stored views stay relative.
        con.execute("set file_search_path = ?", [str(path.parent)])
        for table in tables:
            if table.get("partition_by"):
                # the date column is inside every file too, so the folder names are only for humans and tools
                source = f"read_parquet('data/{table['name']}/*/*.parquet', hive_partitioning = false)"
            else:
                source = f"read_parquet('data/{table['name']}.parquet')"
            con.execute(f'create or replace view "{table["name"]}" as select * from {source}')
