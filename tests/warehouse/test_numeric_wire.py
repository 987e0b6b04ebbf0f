"""NUMERIC wire bytes from a real Postgres decoded into exact Arrow decimals, and the exporter's read plan."""

from __future__ import annotations

from decimal import Decimal

import adbc_driver_postgresql.dbapi as adbc
import numpy as np
import pyarrow as pa
import pytest

from warehouse.publishing.deliveries.export import adbc_uri, plan_read
from warehouse.publishing.deliveries.numeric_wire import (
    _DIVIDE_BY_POWER_OF_TEN,
    NumericWireError,
    decimal_from_numeric_send,
)

pytestmark = pytest.mark.integration

VALUES = [
    "0", "1", "-1", "0.01", "-0.01", "0.5", "9.99", "10000", "12345.6789", "-12345.6789",
    "99999999.9999", "-99999999.9999", "0.0001", "100000000", "1.1", None, "7", "10000.0001",
]  # fmt: skip


def _wire_and_text(url: str, precision: int, scale: int, values: list[str | None]) -> tuple[pa.Array, list]:
    literal = ", ".join("(null)" if v is None else f"('{v}')" for v in values)
    with adbc.connect(adbc_uri(url)) as conn, conn.cursor() as cursor:
        cursor.execute(
            f"select numeric_send(v::numeric({precision}, {scale})) as wire, v::numeric({precision}, {scale})::text"
            f" as text from (values {literal}) as t(v)"
        )
        table = cursor.fetch_arrow_table()
    return table.column("wire").combine_chunks(), table.column("text").to_pylist()


@pytest.mark.parametrize(("precision", "scale"), [(12, 2), (14, 4), (18, 0), (18, 6), (10, 3), (10, 1)])
def test_decodes_every_value_exactly(warehouse_settings, precision, scale):
    url = warehouse_settings.database_url("catalog")
    fits = [v for v in VALUES if v is None or abs(Decimal(v)) < Decimal(10) ** (precision - scale)]
    wire, text = _wire_and_text(url, precision, scale, fits)
    decoded = decimal_from_numeric_send(wire, precision, scale)
    assert decoded.type == pa.decimal128(precision, scale)
    assert decoded.to_pylist() == [None if t is None else Decimal(t) for t in text]
    # a slice (as a batch split by date produces) decodes the same rows
    assert (
        decimal_from_numeric_send(wire.slice(3, 5), precision, scale).to_pylist() == decoded.to_pylist()[3:8]
    )


def test_all_nulls_and_empty(warehouse_settings):
    url = warehouse_settings.database_url("catalog")
    wire, _ = _wire_and_text(url, 12, 2, [None, None])
    assert decimal_from_numeric_send(wire, 12, 2).to_pylist() == [None, None]
    assert decimal_from_numeric_send(wire.slice(0, 0), 12, 2).to_pylist() == []


def test_nan_is_refused_by_name(warehouse_settings):
    wire, _ = _wire_and_text(warehouse_settings.database_url("catalog"), 12, 2, ["1.5", "NaN"])
    with pytest.raises(NumericWireError, match="price: holds NaN"):
        decimal_from_numeric_send(wire, 12, 2, "price")


def test_read_plan_types_each_numeric_kind(warehouse_settings):
    query = "select 1.5::numeric(12, 2) as price, 2.5::numeric as ratio, 3.5::numeric(30, 2) as big, 'x'::text as name"
    with adbc.connect(adbc_uri(warehouse_settings.database_url("catalog"))) as conn, conn.cursor() as cursor:
        cursor.execute(f"select * from ({query}) as d limit 0")
        plan = plan_read(cursor.fetch_record_batch().schema, query)
        cursor.execute(plan.sql)
        raw = cursor.fetch_arrow_table()
    assert [str(f.type) for f in plan.target] == [
        "decimal128(12, 2)",
        "double",
        "decimal128(30, 2)",
        "string",
    ]
    assert list(plan.wire_decimals) == [0]  # only numeric(p <= 18, s) travels as wire bytes
    assert raw.column("price").type == pa.binary()


def test_multiply_and_shift_divides_every_digit_exactly():
    digits = np.arange(10_000, dtype=np.int64)
    for k in range(8):
        multiplier = _DIVIDE_BY_POWER_OF_TEN[min(k, len(_DIVIDE_BY_POWER_OF_TEN) - 1)]
        assert np.array_equal((digits * multiplier) >> 32, digits // 10**k), k
