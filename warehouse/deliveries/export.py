"""Stream a query out of Postgres into zstd parquet, optionally split into date partitions.

Rows leave Postgres through the ADBC PostgreSQL driver, which runs COPY ... TO STDOUT
(FORMAT binary) and decodes straight into Arrow record batches in C++, so memory stays
flat whatever the table size (DuckDB's postgres extension is not available offline here).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Rows buffered per output file before a row group is written: big enough for good
# compression, small enough that memory does not grow with the table.
ROW_GROUP_ROWS = 262_144


@dataclass(frozen=True)
class DeliveryTable:
    """One table of a delivery.

    `query` selects the whole table; `delta_query` (with a `{day}` placeholder) selects
    one day's rows for a daily delta (None: the table ships whole in deltas too).
    `partition_by` names a date column to split files by (hive style `col=YYYY-MM-DD/`).
    """

    name: str
    query: str
    partition_by: str | None = None
    delta_query: str | None = None
    primary_key: tuple[str, ...] = ()


def _decimal_type(typmod: int) -> pa.DataType:
    """Postgres numeric(p, s) typmod -> Arrow decimal128; unconstrained numeric -> float64."""
    if typmod < 4:
        return pa.float64()
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    return pa.decimal128(precision, scale)


def arrow_schema_for(schema: pa.Schema) -> tuple[pa.Schema, list[int]]:
    """Replace ADBC's opaque numeric columns by decimals; return the target schema and the columns to cast."""
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
    if not to_cast:
        return pa.RecordBatch.from_arrays(batch.columns, schema=target)
    columns = list(batch.columns)
    for index in to_cast:
        column = columns[index]
        storage = column.storage if isinstance(column, pa.ExtensionArray) else column
        columns[index] = pc.cast(storage, target.field(index).type)
    return pa.RecordBatch.from_arrays(columns, schema=target)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def adbc_uri(url: str) -> str:
    # ADBC/libpq takes the URL as is; drop our psycopg-only query options.
    return url.split("?", 1)[0]


class _BufferedWriter:
    """A parquet file that receives batches and writes full row groups."""

    def __init__(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def add(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending), row_group_size=ROW_GROUP_ROWS)
            self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        self.flush()
        self._writer.close()


def export_query(
    url: str, query: str, out_dir: Path, name: str, partition_by: str | None = None, ship_empty: bool = True
) -> tuple[pa.Schema, list[tuple[Path, int]]]:
    """Stream `query` into `out_dir` as `name.parquet`, or `name/<col>=<date>/part-0.parquet` per date.

    Returns the Arrow schema and (path, rows) per file written. An empty unpartitioned result
    still writes one (empty) file, so a buyer sees the table and its schema; so does an empty
    partitioned one (under `name/empty/`) unless `ship_empty` is False.
    """
    import adbc_driver_postgresql.dbapi as adbc

    writers: dict[object, _BufferedWriter] = {}
    with adbc.connect(adbc_uri(url)) as conn, conn.cursor() as cursor:
        cursor.execute(query)
        reader = cursor.fetch_record_batch()
        target, to_cast = arrow_schema_for(reader.schema)
        partition_index = target.get_field_index(partition_by) if partition_by else -1
        if partition_by and partition_index < 0:
            raise ValueError(f"{name}: partition column {partition_by!r} is not in the query's columns")

        def writer_for(key) -> _BufferedWriter:
            if key not in writers:
                path = (
                    out_dir / name / f"{partition_by}={key}" / "part-0.parquet"
                    if partition_by
                    else out_dir / f"{name}.parquet"
                )
                writers[key] = _BufferedWriter(path, target)
            return writers[key]

        try:
            for raw_batch in reader:
                batch = _convert(raw_batch, target, to_cast)
                if not partition_by:
                    writer_for(None).add(batch)
                    continue
                column = batch.column(partition_index)
                # Mart facts are stored day by day, so a batch usually holds one or two dates.
                dates = pc.unique(column).to_pylist()
                for value in dates:
                    mask = (
                        pc.is_null(column)
                        if value is None
                        else pc.equal(column, pa.scalar(value, column.type))
                    )
                    writer_for(value).add(batch.filter(mask))
                # A date that this batch did not touch is (nearly always) finished: write out its
                # buffer now, so memory holds about one date's row group, not the whole table.
                for value, writer in writers.items():
                    if value not in dates:
                        writer.flush()
            if not writers and not partition_by:
                writer_for(None)  # an empty table still ships, with its schema
            elif not writers and ship_empty:
                writers["empty"] = _BufferedWriter(out_dir / name / "empty" / "part-0.parquet", target)
        finally:
            for writer in writers.values():
                writer.close()
    return target, [(w.path, w.rows) for w in writers.values()]
