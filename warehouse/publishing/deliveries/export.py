"""Stream a query out of Postgres into zstd parquet, optionally split into date partitions.

Rows leave Postgres through the ADBC PostgreSQL driver, which runs COPY ... TO STDOUT
(FORMAT binary) and decodes straight into Arrow record batches in C++, so memory stays
flat whatever the table size (DuckDB's postgres extension is not available offline here).

Two things keep the exporter near Postgres's own read speed (ADR 0004):

* ADBC turns every NUMERIC into a string, and parsing those back into decimals cost more
  than the rest of the read together. Numeric columns with a declared precision are
  therefore read as their wire bytes (`numeric_send(col)`) and decoded here with numpy
  straight into exact Arrow decimals (`numeric_wire.py`).
* Parquet encoding and compression run on a writer thread while the next batches are
  read; both sides spend their time in C++ with the GIL released.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.publishing.deliveries.numeric_wire import MAX_INT64_PRECISION, decimal_from_numeric_send

# Rows buffered per output file before a row group is written: big enough for good
# compression, small enough that memory does not grow with the table.
ROW_GROUP_ROWS = 524_288
# Batches queued for the writer thread at most: bounds memory when writing falls behind.
WRITE_QUEUE_DEPTH = 4
# Dictionary pages up to this size: keeps product and store keys (tens of thousands of
# distinct 32-character ids per file) dictionary-encoded instead of falling back to plain.
DICTIONARY_PAGE_BYTES = 8 << 20


def table_file(data_dir: Path, table: str, partition_value: object = None) -> Path:
    """Where a table's rows live: every table is a folder of parquet files (ADR 0016).

    The partition value names the file but is not a `key=value` folder: the column stays in
    the files, with its one type, and no reader has to guess a type from a path.
    """
    return data_dir / table / f"part-{'0' if partition_value is None else partition_value}.parquet"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _numeric_precision_scale(field: pa.Field) -> tuple[int, int] | None:
    """(precision, scale) of a Postgres numeric(p, s) column as ADBC describes it; None otherwise."""
    meta = field.metadata or {}
    if meta.get(b"POSTGRESQL:type") != b"numeric":
        return None
    typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
    if typmod < 4:
        return (0, 0)  # unconstrained numeric
    return ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF


@dataclass(frozen=True)
class ReadPlan:
    """How to read a query: the SQL to run, the Arrow schema to deliver, and per-column decoding."""

    sql: str
    target: pa.Schema
    wire_decimals: dict[int, tuple[int, int]]  # column index -> (precision, scale), read via numeric_send
    text_numerics: dict[int, pa.DataType]  # column index -> type to cast ADBC's numeric strings to


def plan_read(described: pa.Schema, query: str) -> ReadPlan:
    """Rewrite `query` so numeric(p, s) columns travel as wire bytes; map every column to its delivered type."""
    fields, select, wire, text = [], [], {}, {}
    for index, field in enumerate(described):
        precision_scale = _numeric_precision_scale(field)
        column = _quote(field.name)
        if precision_scale is None:
            fields.append(pa.field(field.name, field.type, nullable=field.nullable))
            select.append(column)
            continue
        precision, scale = precision_scale
        if precision == 0:
            # Unconstrained numeric has no fixed scale: ship it as float64.
            text[index] = pa.float64()
            fields.append(pa.field(field.name, pa.float64(), nullable=field.nullable))
            select.append(column)
        elif precision <= MAX_INT64_PRECISION:
            wire[index] = (precision, scale)
            fields.append(pa.field(field.name, pa.decimal128(precision, scale), nullable=field.nullable))
            select.append(f"numeric_send({column}) as {column}")
        else:
            text[index] = pa.decimal128(precision, scale)
            fields.append(pa.field(field.name, pa.decimal128(precision, scale), nullable=field.nullable))
            select.append(column)
    sql = f"select {', '.join(select)} from ({query}) as delivered" if wire else query
    return ReadPlan(sql, pa.schema(fields), wire, text)


def _convert(batch: pa.RecordBatch, plan: ReadPlan) -> pa.RecordBatch:
    if not plan.wire_decimals and not plan.text_numerics:
        return pa.RecordBatch.from_arrays(batch.columns, schema=plan.target)
    columns = list(batch.columns)
    for index, (precision, scale) in plan.wire_decimals.items():
        columns[index] = decimal_from_numeric_send(
            columns[index], precision, scale, plan.target.field(index).name
        )
    for index, arrow_type in plan.text_numerics.items():
        column = columns[index]
        storage = column.storage if isinstance(column, pa.ExtensionArray) else column
        columns[index] = pc.cast(storage, arrow_type)
    return pa.RecordBatch.from_arrays(columns, schema=plan.target)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def adbc_uri(url: str) -> str:
    # ADBC/libpq takes the URL as is; drop our psycopg-only query options.
    return url.split("?", 1)[0]


class _PartitionedParquetWriter:
    """Converts raw ADBC batches and writes them as parquet files, on a background thread.

    The reading thread only pulls batches off the wire; conversion, the split by date,
    parquet encoding and compression happen here, in numpy and C++ that release the GIL,
    so reading and writing overlap. Batches wait in a bounded queue and in one row group
    per open file, so memory does not grow with the table.
    """

    _DONE = object()

    def __init__(self, plan: ReadPlan, path_for, partition_index: int, unique_columns: tuple[str, ...]):
        self._plan = plan
        self._path_for = path_for
        self._partition_index = partition_index
        # Dictionary-encoding a column whose values never repeat only costs time.
        self._dictionary = [f.name for f in plan.target if f.name not in unique_columns]
        # Row-group min/max of hash keys never prunes anything (md5 values are spread evenly).
        self._statistics = [
            f.name for f in plan.target if f.name not in unique_columns and not f.name.endswith("_key")
        ]
        self._queue: queue.Queue = queue.Queue(maxsize=WRITE_QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._writers: dict[Path, pq.ParquetWriter] = {}
        self._pending: dict[Path, list[pa.RecordBatch]] = {}
        self._pending_rows: dict[Path, int] = {}
        self.rows: dict[Path, int] = {}
        self._thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)
        self._thread.start()

    def put(self, raw_batch: pa.RecordBatch) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(raw_batch)

    def close(self) -> dict[Path, int]:
        """Wait for every queued batch to be written, close the files, and return rows per file."""
        self._queue.put(self._DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.rows

    def touch(self, path: Path) -> None:
        """Write `path` with the schema and no rows (call after close())."""
        self._open(path).close()
        self.rows[path] = 0

    def _run(self) -> None:
        try:
            while (raw_batch := self._queue.get()) is not self._DONE:
                if self._error is None:
                    try:
                        self._take(_convert(raw_batch, self._plan))
                    except BaseException as error:  # handed to the reading thread in put()/close()
                        self._error = error
                # after an error, keep draining so the reader never blocks on a dead writer
            if self._error is None:
                for path in list(self._pending):
                    self._flush(path)
        except BaseException as error:
            self._error = self._error or error
        finally:
            for writer in self._writers.values():
                try:
                    writer.close()
                except BaseException as error:
                    self._error = self._error or error

    def _take(self, batch: pa.RecordBatch) -> None:
        if self._partition_index < 0:
            self._add(self._path_for(None), batch)
            return
        touched = set()
        for value, rows in _split_by_value(batch, self._partition_index):
            path = self._path_for(value)
            touched.add(path)
            self._add(path, rows)
        # Mart facts are stored day by day, so a date this batch did not touch is (nearly
        # always) finished: write out its rows now, so memory holds about one row group.
        for path in [p for p in self._pending if p not in touched]:
            self._flush(path)

    def _add(self, path: Path, batch: pa.RecordBatch) -> None:
        self._pending.setdefault(path, []).append(batch)
        self._pending_rows[path] = self._pending_rows.get(path, 0) + batch.num_rows
        if self._pending_rows[path] >= ROW_GROUP_ROWS:
            self._flush(path)

    def _flush(self, path: Path) -> None:
        batches = self._pending.pop(path, None)
        self._pending_rows.pop(path, None)
        if not batches:
            return
        if path not in self._writers:
            self._writers[path] = self._open(path)
        table = pa.Table.from_batches(batches)
        self._writers[path].write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.rows[path] = self.rows.get(path, 0) + table.num_rows

    def _open(self, path: Path) -> pq.ParquetWriter:
        path.parent.mkdir(parents=True, exist_ok=True)
        return pq.ParquetWriter(
            path,
            self._plan.target,
            compression="zstd",
            use_dictionary=self._dictionary,
            dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES,
            # decimal(p <= 18) as plain int64 in the file: smaller and faster to write and read
            store_decimal_as_integer=True,
            write_statistics=self._statistics,
        )


def _split_by_value(batch: pa.RecordBatch, index: int) -> list[tuple[object, pa.RecordBatch]]:
    """(value, rows) per distinct value of column `index`.

    Facts come out of Postgres in date order, so a date column is usually sorted within a
    batch: then the split is a few zero-copy slices. Anything else is filtered value by value.
    """
    column = batch.column(index)
    if column.null_count == 0 and pa.types.is_date32(column.type) and len(column):
        days = column.view(pa.int32()).to_numpy()
        if np.all(days[1:] >= days[:-1]):
            starts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist()]
            ends = [*starts[1:], len(days)]
            return [(column[s].as_py(), batch.slice(s, e - s)) for s, e in zip(starts, ends, strict=True)]
    parts = []
    for value in pc.unique(column).to_pylist():
        mask = pc.is_null(column) if value is None else pc.equal(column, pa.scalar(value, column.type))
        parts.append((value, batch.filter(mask)))
    return parts


def export_query(
    url: str,
    query: str,
    out_dir: Path,
    name: str,
    partition_by: str | None = None,
    ship_empty: bool = True,
    unique_columns: tuple[str, ...] = (),
) -> tuple[pa.Schema, list[tuple[Path, int]]]:
    """Stream `query` into the folder `out_dir/name/`: one file, or one file per `partition_by` value.

    Returns the Arrow schema and (path, rows) per file written. An empty result still writes
    one (empty) file, so a buyer sees the table and its schema, unless it is partitioned and
    `ship_empty` is False. `unique_columns` (a single-column primary key, say) skip
    dictionary encoding.
    """
    import adbc_driver_postgresql.dbapi as adbc

    def path_for(value) -> Path:
        return table_file(out_dir, name, value)

    with adbc.connect(adbc_uri(url)) as conn, conn.cursor() as cursor:
        cursor.execute(f"select * from ({query}) as described limit 0")
        plan = plan_read(cursor.fetch_record_batch().schema, query)
        partition_index = plan.target.get_field_index(partition_by) if partition_by else -1
        if partition_by and partition_index < 0:
            raise ValueError(f"{name}: partition column {partition_by!r} is not in the query's columns")
        writer = _PartitionedParquetWriter(plan, path_for, partition_index, unique_columns)
        try:
            cursor.execute(plan.sql)
            for raw_batch in cursor.fetch_record_batch():
                writer.put(raw_batch)
        finally:
            rows = writer.close()
    if not rows and (ship_empty or not partition_by):
        writer.touch(path_for(None))  # an empty table still ships, in the same folder, with its schema
    return plan.target, sorted(rows.items())
