"""Parquet deliveries out of a real Postgres, and the buyer's verification of them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import duckdb
import psycopg
import pyarrow.parquet as pq
import pytest
import yaml

from warehouse.publishing.deliveries import DeliveryError, DeliveryTable, verify_delivery, write_delivery

pytestmark = pytest.mark.integration

TODAY = dt.date(2026, 5, 3)
TABLES = [
    DeliveryTable("probe_dim", "select * from catalog.probe_dim order by id", primary_key=("id",)),
    DeliveryTable(
        "probe_fact",
        "select * from catalog.probe_fact",
        partition_by="price_date",
        delta_query="select * from catalog.probe_fact where price_date = {day}",
        primary_key=("fact_id",),
    ),
]


@pytest.fixture(scope="module")
def probe_tables(warehouse_settings):
    url = warehouse_settings.database_url("catalog")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists catalog.probe_dim, catalog.probe_fact")
        conn.execute(
            "create table catalog.probe_dim as select g as id, 'item ' || g as name from generate_series(1, 50) g"
        )
        conn.execute(
            "create table catalog.probe_fact as select g as fact_id, 1 + g % 50 as id,"
            " (g * 1.25)::numeric(12, 2) as price, date '2026-05-03' - (g % 3) as price_date"
            " from generate_series(1, 5000) g"
        )
    yield url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table catalog.probe_dim, catalog.probe_fact")


@pytest.fixture
def delivered(probe_tables, tmp_path):
    return write_delivery(probe_tables, "probe", TABLES, tmp_path)


def _manifest(path):
    return json.loads((path / "manifest.json").read_text())


def test_snapshot_holds_every_row_split_by_date_with_exact_types(delivered):
    manifest = _manifest(delivered)
    assert manifest["product"] == "probe" and manifest["kind"] == "snapshot"
    fact_files = [f for f in manifest["files"] if f.get("table") == "probe_fact"]
    assert sorted(f["path"] for f in fact_files) == [
        f"data/probe_fact/part-{d}.parquet" for d in ("2026-05-01", "2026-05-02", "2026-05-03")
    ]
    assert sum(f["rows"] for f in fact_files) == 5000 and all(len(f["sha256"]) == 64 for f in fact_files)
    table = pq.read_table(delivered / fact_files[0]["path"])
    assert str(table.schema.field("price").type) == "decimal128(12, 2)"
    assert isinstance(table.column("price")[0].as_py(), Decimal)
    metadata = pq.ParquetFile(delivered / fact_files[0]["path"]).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert verify_delivery(delivered) == []
    assert (delivered.parent / "latest").resolve() == delivered.resolve()
    assert not list(delivered.parent.glob("*.partial"))


def test_documents_describe_every_column(delivered):
    package = json.loads((delivered / "datapackage.json").read_text())
    fact = next(r for r in package["resources"] if r["name"] == "probe_fact")
    assert [f["name"] for f in fact["schema"]["fields"]] == ["fact_id", "id", "price", "price_date"]
    assert fact["schema"]["primaryKey"] == ["fact_id"] and fact["path"] == "data/probe_fact"
    assert len(fact["parts"]) == 3
    contract = yaml.safe_load((delivered / "contract.yaml").read_text())
    assert contract["kind"] == "DataContract" and contract["apiVersion"].startswith("v3")
    props = {
        p["name"]: p for p in next(s for s in contract["schema"] if s["name"] == "probe_fact")["properties"]
    }
    assert props["price_date"]["logicalType"] == "date" and props["fact_id"]["primaryKey"] is True
    readme = (delivered / "README.md").read_text()
    assert "### probe_fact (5000 rows)" in readme and "| price | decimal128(12, 2) |" in readme


def test_duckdb_file_opens_from_a_moved_folder(delivered, tmp_path, monkeypatch):
    moved = shutil.copytree(delivered, tmp_path / "elsewhere" / "delivery")
    monkeypatch.chdir(moved)
    with duckdb.connect("probe.duckdb", read_only=True) as con:
        assert con.execute("select count(*), count(distinct price_date) from probe_fact").fetchone() == (
            5000,
            3,
        )
        assert con.execute("select count(*) from probe_dim").fetchone() == (50,)
    assert verify_delivery(moved) == []


def test_delta_holds_one_day_and_dimensions_whole(probe_tables, tmp_path):
    path = write_delivery(probe_tables, "probe", TABLES, tmp_path, kind="delta", day=TODAY)
    manifest = _manifest(path)
    assert manifest["kind"] == "delta" and manifest["day"] == "2026-05-03"
    fact_files = [f for f in manifest["files"] if f.get("table") == "probe_fact"]
    assert [f["path"] for f in fact_files] == ["data/probe_fact/part-2026-05-03.parquet"]
    with psycopg.connect(probe_tables) as conn:
        expected = conn.execute(
            "select count(*) from catalog.probe_fact where price_date = %s", (TODAY,)
        ).fetchone()[0]
    assert fact_files[0]["rows"] == expected
    assert sum(f["rows"] for f in manifest["files"] if f.get("table") == "probe_dim") == 50
    with pytest.raises(DeliveryError, match="no rows for 2020-01-01"):
        write_delivery(probe_tables, "probe", TABLES, tmp_path, kind="delta", day=dt.date(2020, 1, 1))
    assert not list((tmp_path / "probe").glob("*.partial"))


def test_ids_are_stable_from_one_delivery_to_the_next(probe_tables, tmp_path):
    first = write_delivery(probe_tables, "probe", TABLES, tmp_path / "a")
    second = write_delivery(probe_tables, "probe", TABLES, tmp_path / "b")
    ids = [
        pq.read_table(p / "data/probe_dim/part-0.parquet").column("id").to_pylist() for p in (first, second)
    ]
    assert ids[0] == ids[1]


def test_corrupted_file_fails_verification_by_name(delivered):
    data = next((delivered / "data" / "probe_fact").rglob("*.parquet"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    problems = verify_delivery(delivered)
    assert any(str(data.relative_to(delivered)) in p and "sha256" in p for p in problems)


def test_missing_added_and_changed_schema_fail_verification(delivered):
    manifest = _manifest(delivered)
    manifest["files"][0]["columns"][1]["type"] = "double"
    manifest["files"].append({**manifest["files"][0], "path": "data/gone.parquet"})
    (delivered / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(delivered / "data" / "probe_dim" / "part-0.parquet", delivered / "data" / "smuggled.parquet")
    (delivered / "contract.yaml").write_text("tampered")
    problems = verify_delivery(delivered)
    assert any("gone.parquet: missing" in p for p in problems)
    assert any("schema differs" in p for p in problems)
    assert any("smuggled.parquet: not in the manifest" in p for p in problems)
    assert any(p.startswith("contract.yaml") for p in problems)


def test_verify_cli_exit_codes(delivered, capsys):
    from orchestration.cli import main

    assert main(["delivery", "verify", str(delivered)]) == 0
    (delivered / "data" / "probe_dim" / "part-0.parquet").unlink()
    assert main(["delivery", "verify", str(delivered)]) == 1
    assert "probe_dim/part-0.parquet: missing" in capsys.readouterr().err


def test_empty_time_series_ships_empty_in_a_snapshot(probe_tables, tmp_path, monkeypatch):
    empty = DeliveryTable(
        "probe_none", "select * from catalog.probe_fact where false", partition_by="price_date"
    )
    path = write_delivery(probe_tables, "probe", [empty], tmp_path)
    [entry] = [f for f in _manifest(path)["files"] if f.get("table")]
    assert entry["path"] == "data/probe_none/part-0.parquet" and entry["rows"] == 0
    assert verify_delivery(path) == []
    monkeypatch.chdir(path)
    with duckdb.connect("probe.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from probe_none").fetchone() == (0,)


def test_a_query_failing_mid_stream_leaves_no_delivery(probe_tables, tmp_path):
    # Row 4,000 divides by zero after thousands of rows were already written to parquet.
    failing = DeliveryTable(
        "probe_boom",
        "select g as fact_id, date '2026-05-01' + g / 1000 as price_date, 1 / (g - 4000) as x"
        " from generate_series(1, 5000) g",
        partition_by="price_date",
    )
    with pytest.raises(Exception, match="division by zero"):
        write_delivery(probe_tables, "probe", [failing], tmp_path)
    assert not any((tmp_path / "probe").iterdir())  # neither a delivery nor a .partial folder
