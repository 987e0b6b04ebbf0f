"""The documents that travel with a delivery, each for the tool a buyer already has:

* `datapackage.json` (Frictionless): one resource per table, whose path is the table's folder,
  so `frictionless validate` reads every file of it; keys and every column described;
* `contract.yaml` (Open Data Contract Standard v3): a `servers` block for the delivery itself,
  DuckDB physical types (what datacontract-cli tests with), the GX rules ODCS can express;
* `README.md`: a data dictionary from the dbt docs;
* `load.sql`: plain views over the parquet by relative path, for the buyer's own DuckDB
  (and, in comments, Spark SQL / Trino);
* `<product>.duckdb`: the tables themselves, stored for the previous DuckDB release line too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import yaml

from warehouse.platform.config import DEFAULT_K_THRESHOLD
from warehouse.publishing.deliveries.products import DeliveryTable
from warehouse.publishing.quality.suites import Expect, product_suites

# DuckDB 2.x writes a storage format 1.x cannot read unless told to: buyers are not all on
# the newest release, so the file keeps the format of the previous minor line (1.5).
DUCKDB_STORAGE_VERSION = "v1.5.0"


@dataclass
class ShippedTable:
    """A table as it was written: its definition, Arrow schema, DuckDB column types and files."""

    table: DeliveryTable
    schema: pa.Schema
    files: list[dict]
    duckdb_types: dict[str, str] | None = None

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def rows(self) -> int:
        return sum(f["rows"] for f in self.files)

    @property
    def folder(self) -> str:
        return f"data/{self.name}"


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
    # ODCS v3.0 logical types have no timestamp: a timestamp is a `date` with a time part.
    return {"datetime": "date"}.get(frictionless_type(arrow_type), frictionless_type(arrow_type))


# DuckDB names two types with spaces, which datacontract-cli (and most SQL type parsers)
# read as their first word; ODCS tools know them by these names.
_PHYSICAL_TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "timestamp_tz", "TIMESTAMP": "timestamp_ntz"}


def contract_physical_type(duckdb_type: str) -> str:
    """The contract's physicalType for a column DuckDB reads as `duckdb_type`."""
    return _PHYSICAL_TYPE_NAMES.get(duckdb_type, duckdb_type)


def datapackage(product: str, delivery_id: str, tables: list[ShippedTable]) -> dict:
    resources = []
    for shipped in tables:
        table = shipped.table
        schema: dict = {
            "fields": [
                {
                    "name": field.name,
                    "type": frictionless_type(field.type),
                    "description": table.column_descriptions.get(field.name, ""),
                    **({"constraints": {"required": True}} if field.name in table.primary_key else {}),
                }
                for field in shipped.schema
            ]
        }
        if table.primary_key:
            schema["primaryKey"] = list(table.primary_key)
        if table.foreign_keys:
            schema["foreignKeys"] = [
                {
                    "fields": list(key.columns),
                    "reference": {"resource": key.reference_table, "fields": list(key.reference_columns)},
                }
                for key in table.foreign_keys
            ]
        resources.append(
            {
                "name": table.name,
                # The folder, not a list of files: Frictionless reads a list of parquet files as
                # one byte stream (only the first file's rows), but reads a folder as a dataset.
                "path": shipped.folder,
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": table.description,
                "parts": [
                    {
                        "path": f["path"],
                        "rows": f["rows"],
                        "bytes": f["bytes"],
                        "hash": f"sha256:{f['sha256']}",
                    }
                    for f in shipped.files
                ],
                "schema": schema,
            }
        )
    return {
        "name": f"smartcart-{product}",
        "id": delivery_id,
        "title": f"SmartCart {product} delivery {delivery_id}",
        "resources": resources,
    }


def _property_rules(expectations: list[Expect]) -> dict:
    """The ODCS form of a column's blocking GX expectations (the rest stay in the GX report)."""
    rules: dict = {}
    options: dict = {}
    quality: list = []
    for expect in expectations:
        kwargs = expect.kwargs
        if expect.kind == "ExpectColumnValuesToNotBeNull":
            rules["required"] = True
        elif expect.kind == "ExpectColumnValuesToBeUnique":
            rules["unique"] = True
        elif expect.kind == "ExpectColumnValuesToBeBetween":
            if kwargs.get("min_value") is not None:
                options["minimum"] = kwargs["min_value"]
            if kwargs.get("max_value") is not None:
                options["maximum"] = kwargs["max_value"]
        elif expect.kind == "ExpectColumnValueLengthsToEqual":
            options["minLength"] = options["maxLength"] = kwargs["value"]
        elif expect.kind == "ExpectColumnValuesToBeInSet":
            quality.append(
                {
                    "type": "library",
                    "metric": "invalidValues",
                    "arguments": {"validValues": list(kwargs["value_set"])},
                    "mustBe": 0,
                    "description": f"GX {expect.kind}",
                }
            )
    if options:
        rules["logicalTypeOptions"] = options
    if quality:
        rules["quality"] = quality
    return rules


def _expectations_by_column(
    product: str, table: str, k_threshold: int
) -> tuple[dict[str, list[Expect]], list[Expect]]:
    """Blocking expectations of the GX suite on `table`, per column, and the table-level ones."""
    by_column: dict[str, list[Expect]] = {}
    table_level: list[Expect] = []
    try:
        suites = product_suites(product, k_threshold, trends_tables=[table])
    except KeyError:  # a product without GX suites: its contract lists no quality rules
        suites = []
    for suite in suites:
        if suite.table != table:
            continue
        for expect in suite.expectations:
            if expect.severity != "blocking":
                continue
            if "column" in expect.kwargs:
                by_column.setdefault(expect.kwargs["column"], []).append(expect)
            else:
                table_level.append(expect)
    return by_column, table_level


def data_contract(
    product: str,
    version: str,
    tables: list[ShippedTable],
    server: dict[str, str],
    k_threshold: int = DEFAULT_K_THRESHOLD,
) -> str:
    """An Open Data Contract Standard (v3) document for the delivery, testable with datacontract-cli;
    its trends rules state the k the delivery's checks used (Settings.k_threshold)."""
    schema = []
    for shipped in tables:
        table = shipped.table
        by_column, table_level = _expectations_by_column(product, table.name, k_threshold)
        properties = []
        for field in shipped.schema:
            prop = {
                "name": field.name,
                "logicalType": odcs_logical_type(field.type),
                "physicalType": contract_physical_type(
                    (shipped.duckdb_types or {}).get(field.name, "VARCHAR")
                ),
                "description": table.column_descriptions.get(field.name, ""),
            }
            if field.name in table.primary_key:
                prop["primaryKey"] = True
                prop["primaryKeyPosition"] = table.primary_key.index(field.name) + 1
                prop["required"] = True
            prop.update(_property_rules(by_column.get(field.name, [])))
            properties.append(prop)
        entry = {
            "name": table.name,
            "physicalName": table.name,
            "physicalType": "table",
            "description": table.description,
            "properties": properties,
        }
        compound = [e for e in table_level if e.kind == "ExpectCompoundColumnsToBeUnique"]
        if compound:
            entry["quality"] = [
                {
                    "type": "sql",
                    "description": f"unique ({', '.join(e.kwargs['column_list'])}) (GX {e.kind})",
                    "query": "select count(*) from (select 1 from {model} group by "
                    + ", ".join(e.kwargs["column_list"])
                    + " having count(*) > 1) as duplicates",
                    "mustBe": 0,
                }
                for e in compound
            ]
        schema.append(entry)
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": f"smartcart-{product}",
        "name": f"SmartCart {product}",
        "version": version,
        "status": "active",
        "description": {
            "purpose": f"The SmartCart {product} data product, delivered as parquet.",
            "usage": "Open the .duckdb file, run load.sql, or read data/<table>/ as a parquet dataset.",
        },
        "servers": [{"server": "delivery", **server}],
        "schema": schema,
    }
    return yaml.safe_dump(contract, sort_keys=False, allow_unicode=True)


def readme(product: str, manifest: dict, tables: list[ShippedTable]) -> str:
    first = tables[0].name
    lines = [
        f"# SmartCart {product} delivery {manifest['delivery_id']}",
        "",
        f"Kind: **{manifest['kind']}**{' for ' + manifest['day'] if manifest.get('day') else ''}. "
        f"Generated {manifest['generated_at']}.",
        "",
        "## Open it",
        "",
        "```bash",
        f"duckdb {product}.duckdb -c 'select * from {first} limit 5'   # the tables, from any folder",
        "duckdb -init load.sql                 # or: views over data/ (run from this folder)",
        "smartcart delivery verify .           # checks every file against manifest.json",
        "```",
        "",
        "Each table is a folder `data/<table>/` of parquet files: read it as one dataset with",
        f"`pyarrow.dataset.dataset('data/{first}')`, `pandas.read_parquet('data/{first}')`,",
        f"`polars.scan_parquet('data/{first}/*.parquet')`, `spark.read.parquet('data/{first}')` or",
        f"DuckDB `read_parquet('data/{first}/*.parquet')`. A time series has one file per day",
        "(`part-<date>.parquet`); the date is a column inside the files, not a folder name.",
        "",
        "`quality_report/index.html` is the Great Expectations report of the checks this delivery passed.",
    ]
    if manifest["kind"] == "delta":
        lines += [
            "",
            "## Apply this delta",
            "",
            "For each table, `manifest.json` names its merge: `replace_partition` tables drop the",
            "snapshot's rows of the delta's day and take the delta's rows (keyed by `merge_key`);",
            "`replace_table` tables are shipped whole. `smartcart delivery apply DELTA SNAPSHOT --out DIR`",
            "does exactly that and writes the next snapshot.",
        ]
    lines += ["", "## Data dictionary"]
    for shipped in tables:
        table = shipped.table
        lines += [
            "",
            f"### {table.name} ({shipped.rows} rows)",
            "",
            table.description,
            "",
            f"Primary key: {', '.join(table.primary_key) or 'none'}."
            + (f" Files split by {table.partition_by}." if table.partition_by else ""),
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        for field in shipped.schema:
            description = table.column_descriptions.get(field.name, "").replace("\n", " ").replace("|", "\\|")
            lines.append(f"| {field.name} | {field.type} | {description} |")
    return "\n".join(lines) + "\n"


def load_sql(tables: list[ShippedTable]) -> str:
    lines = [
        "-- Views over this delivery's parquet, by path relative to the delivery folder.",
        "-- DuckDB:    cd <delivery folder> && duckdb -init load.sql   (or: .read load.sql)",
        "-- Spark SQL: create temporary view <table> using parquet options (path 'data/<table>');",
        "-- Trino:     create a table with format = 'PARQUET', external_location = '<url>/data/<table>/'.",
    ]
    for shipped in tables:
        lines.append(
            f"create or replace view \"{shipped.name}\" as select * from read_parquet('{shipped.folder}/*.parquet');"
        )
    return "\n".join(lines) + "\n"


def duckdb_file(path: Path, root: Path, tables: list[ShippedTable]) -> None:
    """Store every table in a DuckDB file readable by the previous minor release line too.

    DuckDB resolves a view's relative parquet path against the working directory, not the
    database file, so a file of views breaks when opened from elsewhere or moved; the tables
    are stored instead (load.sql keeps views for buyers who want them). Fills each table's
    `duckdb_types` with the types DuckDB reads the parquet as: the contract's physical types.
    """
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as delivered (storage_version '{DUCKDB_STORAGE_VERSION}')")
        for shipped in tables:
            files = ", ".join(_sql_string(str(root / f["path"])) for f in shipped.files)
            source = f"read_parquet([{files}])"
            con.execute(f'create table delivered."{shipped.name}" as select * from {source}')
            shipped.duckdb_types = {
                name: column_type
                for name, column_type, *_ in con.execute(f"describe select * from {source}").fetchall()
            }
            if shipped.table.description:
                con.execute(
                    f'comment on table delivered."{shipped.name}" is {_sql_string(shipped.table.description)}'
                )
        con.execute("detach delivered")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
