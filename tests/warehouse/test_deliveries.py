"""Parquet deliveries out of a real Postgres, and the buyer's verification of them."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pyarrow.parquet as pq
import pytest

from warehouse.deliveries import DeliveryTable, verify_delivery, write_delivery

pytestmark = pytest.mark.integration


@pytest.fixture
def delivered(warehouse_settings, tmp_path):
    url = warehouse_settings.database_url("catalog")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists catalog.delivery_probe")
        conn.execute(
            "create table catalog.delivery_probe as select g as id, (g * 1.25)::numeric(12, 2) as price,"
            " current_date - (g % 3) as price_date, 'item ' || g as name from generate_series(1, 5000) g"
        )
    try:
        path = write_delivery(
            url,
            "probe",
            [DeliveryTable("delivery_probe", "select * from catalog.delivery_probe order by id")],
            tmp_path,
        )
        yield path
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop table catalog.delivery_probe")


def test_delivery_holds_every_row_with_exact_types(delivered):
    manifest = json.loads((delivered / "manifest.json").read_text())
    assert manifest["product"] == "probe"
    [entry] = manifest["files"]
    assert entry["rows"] == 5000 and len(entry["sha256"]) == 64
    table = pq.read_table(delivered / entry["path"])
    assert table.num_rows == 5000
    assert str(table.schema.field("price").type) == "decimal128(12, 2)"
    assert table.column("price")[3].as_py() == Decimal("5.00")
    assert pq.ParquetFile(delivered / entry["path"]).metadata.row_group(0).column(0).compression == "ZSTD"
    assert verify_delivery(delivered) == []
    assert (delivered.parent / "latest").resolve() == delivered.resolve()
    assert not list(delivered.parent.glob("*.partial"))


def test_corrupted_file_fails_verification_by_name(delivered):
    data = delivered / "data" / "delivery_probe.parquet"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    problems = verify_delivery(delivered)
    assert any("delivery_probe.parquet" in p and "sha256" in p for p in problems)


def test_missing_file_and_changed_schema_fail_verification(delivered):
    manifest_path = delivered / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][0]["columns"][1]["type"] = "double"
    manifest["files"].append({**manifest["files"][0], "path": "data/gone.parquet"})
    manifest_path.write_text(json.dumps(manifest))
    problems = verify_delivery(delivered)
    assert any("gone.parquet: missing" in p for p in problems)
    assert any("schema differs" in p for p in problems)


def test_verify_cli_exit_codes(delivered, capsys):
    from orchestration.cli import main

    assert main(["delivery", "verify", str(delivered)]) == 0
    (delivered / "data" / "delivery_probe.parquet").unlink()
    assert main(["delivery", "verify", str(delivered)]) == 1
    assert "missing" in capsys.readouterr().err
