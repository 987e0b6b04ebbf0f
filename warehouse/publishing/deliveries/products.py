"""Which tables each data product ships, read from the dbt manifest (never a list in Python).

A mart model ships when its config carries `meta.delivery`:

    config:
      meta:
        delivery: {product: catalog, partition_by: price_date}

`product` names the delivery it belongs to; `partition_by` (optional) is a date column whose
values split the table into one file each and select a delta's rows; `merge_key` (optional)
overrides the key a delta is merged on (default: the primary key). Primary keys come from
the model's `primary_key` constraint, else its `unique_combination_of_columns` test, else a
single-column `unique` test; foreign keys from its `relationships` tests on shipped models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class ProductDefinitionError(ValueError):
    """The dbt manifest does not describe a shippable product."""


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    reference_table: str
    reference_columns: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryTable:
    """One table of a delivery.

    `query` selects the whole table; `delta_query` (with a `{day}` placeholder) selects
    one day's rows for a daily delta (None: the table ships whole in deltas too).
    `partition_by` names a date column whose values split the table into one file each.
    """

    name: str
    query: str
    partition_by: str | None = None
    delta_query: str | None = None
    primary_key: tuple[str, ...] = ()
    merge_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    description: str = ""
    column_descriptions: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if not self.merge_key:  # a delta merges on the primary key unless told otherwise
            object.__setattr__(self, "merge_key", self.primary_key)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _primary_key(node: dict, tests: list[dict]) -> tuple[str, ...]:
    for constraint in node.get("constraints", []):
        if constraint.get("type") == "primary_key":
            return tuple(constraint["columns"])
    for test in tests:
        if test["test_metadata"].get("name") == "unique_combination_of_columns":
            kwargs = test["test_metadata"].get("kwargs", {})
            columns = kwargs.get("columns") or kwargs.get("arguments", {}).get("columns")
            if columns:
                return tuple(columns)
    for test in tests:
        if test["test_metadata"].get("name") == "unique" and test.get("column_name"):
            return (test["column_name"],)
    return ()


def _foreign_keys(node_id: str, tests: list[dict], shipped: dict[str, str]) -> tuple[ForeignKey, ...]:
    keys = []
    for test in tests:
        meta = test["test_metadata"]
        if meta.get("name") != "relationships":
            continue
        referenced = [n for n in test["depends_on"]["nodes"] if n != node_id and n in shipped]
        if not referenced or not test.get("column_name"):
            continue  # a relationship to a table outside this product has no key in the package
        keys.append(ForeignKey((test["column_name"],), shipped[referenced[0]], (meta["kwargs"]["field"],)))
    return tuple(sorted(set(keys), key=lambda k: (k.columns, k.reference_table)))


def delivery_tables(manifest_path: Path, product: str) -> list[DeliveryTable]:
    """The tables `product` ships, in a stable order (dimensions first, then facts, by name)."""
    if not Path(manifest_path).is_file():
        raise ProductDefinitionError(
            f"no dbt manifest at {manifest_path}: run `dbt parse` (or load the Dagster code location) first"
        )
    manifest = json.loads(Path(manifest_path).read_text())
    models = {
        node_id: node
        for node_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
        and (node.get("config", {}).get("meta", {}).get("delivery") or {}).get("product") == product
    }
    if not models:
        raise ProductDefinitionError(
            f"no dbt model carries meta.delivery.product = {product!r}: flag the mart models that ship"
        )
    shipped = {node_id: node["name"] for node_id, node in models.items()}
    tests_by_model: dict[str, list[dict]] = {node_id: [] for node_id in models}
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "test" and node.get("attached_node") in tests_by_model:
            tests_by_model[node["attached_node"]].append(node)
    tables = []
    for node_id, node in models.items():
        spec = node["config"]["meta"]["delivery"]
        # The published schema (the model's configured one), not the private build schema dbt writes
        # into (ADR 0024: write-audit-publish).
        schema = node.get("config", {}).get("schema") or node["schema"]
        relation = f"{_quote(schema)}.{_quote(node.get('alias') or node['name'])}"
        partition_by = spec.get("partition_by")
        if partition_by and partition_by not in node.get("columns", {}):
            raise ProductDefinitionError(
                f"{node['name']}: meta.delivery.partition_by {partition_by!r} is not a documented column"
            )
        primary_key = _primary_key(node, tests_by_model[node_id])
        tables.append(
            DeliveryTable(
                name=node["name"],
                # No ORDER BY: facts are stored day by day, and sorting 30M rows would double the cost.
                query=f"select * from {relation}",
                partition_by=partition_by,
                delta_query=(
                    f"select * from {relation} where {_quote(partition_by)} = {{day}}"
                    if partition_by
                    else None
                ),
                primary_key=primary_key,
                merge_key=tuple(spec.get("merge_key") or primary_key),
                foreign_keys=_foreign_keys(node_id, tests_by_model[node_id], shipped),
                description=(node.get("description") or "").strip(),
                column_descriptions={
                    name: (column.get("description") or "").strip()
                    for name, column in node.get("columns", {}).items()
                },
            )
        )
    return sorted(tables, key=lambda t: (t.partition_by is not None, t.name))
