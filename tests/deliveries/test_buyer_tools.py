"""Deliveries read by every buyer's tool, verified, applied and shipped to object storage.

Real PostgreSQL (the session cluster), real parquet readers, the real frictionless and
datacontract CLIs, a real previous DuckDB release in a throwaway venv, and moto's S3 server
over HTTP on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from warehouse.publishing.deliveries import DeliveryTable, ForeignKey, verify_delivery, write_delivery

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
DAY = dt.date(2026, 5, 3)


def _fact_query(where: str = "true") -> str:
    return f"select * from catalog.buyer_fact where {where}"


TABLES = [
    DeliveryTable(
        "buyer_dim",
        "select * from catalog.buyer_dim",
        primary_key=("item_key",),
        merge_key=("item_key",),
        description="Items.",
        column_descriptions={
            "item_key": "Item id.",
            "name": "Name.",
            "list_price": "Price.",
            "active": "Listed.",
        },
    ),
    DeliveryTable(
        "buyer_fact",
        _fact_query(),
        partition_by="price_date",
        delta_query=_fact_query("price_date = {day}"),
        primary_key=("price_date", "fact_id"),
        merge_key=("price_date", "fact_id"),
        foreign_keys=(ForeignKey(("item_key",), "buyer_dim", ("item_key",)),),
        description="Daily prices.",
        column_descriptions={
            "fact_id": "Row id.",
            "item_key": "Item.",
            "price": "Price (exact).",
            "price_date": "Day.",
            "fetched_at": "When.",
            "note": "Optional note.",
            "is_promotion": "On promotion.",
        },
    ),
    DeliveryTable(
        "buyer_empty",
        _fact_query("false"),
        partition_by="price_date",
        delta_query=_fact_query("false and price_date = {day}"),
        primary_key=("price_date", "fact_id"),
        description="Always empty.",
        column_descriptions={},
    ),
]


def _admin(settings):
    return psycopg.connect(settings.database_url("catalog"), autocommit=True)


def _build(settings, days: int = 3, extra_day: dt.date | None = None) -> None:
    with _admin(settings) as conn:
        conn.execute("drop table if exists catalog.buyer_dim, catalog.buyer_fact")
        conn.execute(
            "create table catalog.buyer_dim as select 'k' || g as item_key, 'item ' || g as name,"
            " (g * 0.01 + 1)::numeric(12, 2) as list_price, g % 2 = 0 as active from generate_series(1, 40) g"
        )
        conn.execute(
            "create table catalog.buyer_fact as select g::bigint as fact_id, 'k' || (1 + g % 40) as item_key,"
            f" (g * 1.37 % 500)::numeric(12, 2) as price, date '{DAY}' - (g % {days}) as price_date,"
            " timestamptz '2026-05-01 06:00+00' + g * interval '1 minute' as fetched_at,"
            " case when g % 5 = 0 then null else 'n' || g end as note, g % 7 = 0 as is_promotion"
            " from generate_series(1, 3000) g order by price_date"
        )
        if extra_day is not None:
            conn.execute(
                "insert into catalog.buyer_fact select fact_id + 100000, item_key, price + 1, %s, fetched_at,"
                " note, not is_promotion from catalog.buyer_fact where price_date = %s",
                (extra_day, DAY),
            )
            conn.execute("update catalog.buyer_dim set name = name || ' (renamed)' where item_key = 'k1'")


@pytest.fixture(scope="module")
def source(warehouse_settings):
    _build(warehouse_settings)
    yield warehouse_settings
    with _admin(warehouse_settings) as conn:
        conn.execute("drop table if exists catalog.buyer_dim, catalog.buyer_fact")


@pytest.fixture(scope="module")
def delivered(source, tmp_path_factory):
    return write_delivery(
        source.database_url("catalog"), "probe", TABLES, tmp_path_factory.mktemp("deliveries")
    )


def _mart(settings, table: str) -> pa.Table:
    with _admin(settings) as conn:
        cursor = conn.execute(f"select * from catalog.{table}")
        names = [d.name for d in cursor.description]
        rows = cursor.fetchall()
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def _fingerprint(table: pa.Table, columns: list[str]) -> tuple[int, list]:
    """Row count and the sorted rows as Python values: equal only when every value is equal."""
    rows = table.select(columns).to_pylist()
    return len(rows), sorted(tuple(str(r[c]) for c in columns) for r in rows)


READERS = {
    "pyarrow.dataset(hive)": lambda d: ds.dataset(d, format="parquet", partitioning="hive").to_table(),
    "pq.read_table(dir)": lambda d: pq.read_table(d),
    "pandas.read_parquet(dir)": lambda d: pa.Table.from_pandas(__import__("pandas").read_parquet(d)),
    "polars.scan_parquet(hive)": lambda d: (
        __import__("polars").scan_parquet(f"{d}/*.parquet", hive_partitioning=True).collect().to_arrow()
    ),
    "duckdb read_parquet(hive)": lambda d: duckdb.sql(
        f"select * from read_parquet('{d}/*.parquet', hive_partitioning = true)"
    ).to_arrow_table(),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("table", ["buyer_dim", "buyer_fact", "buyer_empty"])
def test_every_reader_reads_every_table_as_one_dataset(delivered, source, reader, table):
    read = READERS[reader](str(delivered / "data" / table))
    expected = _mart(source, "buyer_fact" if table == "buyer_empty" else table)
    if table == "buyer_empty":
        expected = expected.slice(0, 0)
    assert read.column_names == expected.column_names  # each column once: no extra partition column
    assert _fingerprint(read, expected.column_names) == _fingerprint(expected, expected.column_names)
    if table == "buyer_fact":
        # one type per column, whatever the reader: the date is a date, the price an exact decimal
        assert pa.types.is_date(read.schema.field("price_date").type), read.schema
        price = read.column("price").combine_chunks()
        assert pa.types.is_decimal(price.type) or price.type == pa.string(), price.type
        assert Decimal(str(pc.sum(price).as_py())) == sum(expected.column("price").to_pylist())


def test_frictionless_validates_the_whole_delivery(delivered, source):
    result = subprocess.run(
        [str(BIN / "frictionless"), "validate", "datapackage.json", "--json"],
        cwd=delivered,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report, indent=1)[:3000]
    rows = {task["name"]: task["stats"].get("rows", 0) for task in report["tasks"]}
    assert rows["buyer_fact"] == _mart(source, "buyer_fact").num_rows  # every file, not the first
    package = json.loads((delivered / "datapackage.json").read_text())
    fact = next(r for r in package["resources"] if r["name"] == "buyer_fact")
    assert fact["schema"]["primaryKey"] == ["price_date", "fact_id"]
    assert fact["schema"]["foreignKeys"][0]["reference"] == {"resource": "buyer_dim", "fields": ["item_key"]}
    assert {p["path"] for p in fact["parts"]} == {
        f["path"]
        for f in json.loads((delivered / "manifest.json").read_text())["files"]
        if f.get("table") == "buyer_fact"
    }


def _throwaway_venv(root: Path, requirement: str) -> Path | None:
    """A venv under `root` with `requirement` installed by uv; None when it cannot be installed."""
    uv = BIN / "uv"
    venv = root / "venv"
    made = subprocess.run([str(uv), "venv", "-q", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        return None
    installed = subprocess.run(
        [str(uv), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), requirement],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return venv if installed.returncode == 0 else None


@pytest.fixture(scope="module")
def datacontract_cli(tmp_path_factory) -> Path:
    # datacontract-cli tests parquet through ibis + DuckDB 1.x, whose extra would pin the
    # project's own DuckDB below 2: so it runs from a venv of its own (ADR 0010-deliveries).
    from importlib.metadata import version

    venv = _throwaway_venv(
        tmp_path_factory.mktemp("datacontract"), f"datacontract-cli[duckdb]=={version('datacontract-cli')}"
    )
    if venv is None:
        pytest.skip("could not install datacontract-cli[duckdb] into a throwaway venv (no package index)")
    return venv / "bin" / "datacontract"


@pytest.mark.slow
def test_datacontract_lint_and_test_pass_against_the_shipped_files(delivered, tmp_path, datacontract_cli):
    copy = shutil.copytree(delivered, tmp_path / "copy")
    for command in (["lint", "contract.yaml"], ["test", "contract.yaml"]):
        result = subprocess.run(
            [str(datacontract_cli), *command], cwd=copy, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    contract = __import__("yaml").safe_load((copy / "contract.yaml").read_text())
    fact = next(s for s in contract["schema"] if s["name"] == "buyer_fact")
    types = {p["name"]: (p["logicalType"], p["physicalType"]) for p in fact["properties"]}
    assert types["price"] == ("number", "DECIMAL(12,2)") and types["price_date"] == ("date", "DATE")
    assert contract["servers"][0]["path"] == "./data/{model}/*.parquet"
    # and the contract really tests the data: a duplicated primary key fails it
    first = next((copy / "data" / "buyer_fact").glob("*.parquet"))
    shutil.copy(first, first.with_name("part-duplicate.parquet"))
    result = subprocess.run(
        [str(datacontract_cli), "test", "contract.yaml"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "primary key" in result.stdout


def test_duckdb_file_opens_from_any_folder_and_load_sql_builds_the_same_views(
    delivered, tmp_path, monkeypatch
):
    moved = shutil.copytree(delivered, tmp_path / "moved")
    monkeypatch.chdir(tmp_path)  # not the delivery folder
    with duckdb.connect(str(moved / "probe.duckdb"), read_only=True) as con:
        stored = {
            t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("buyer_dim", "buyer_fact")
        }
        stored_sum = con.execute("select sum(price) from buyer_fact").fetchone()[0]
    monkeypatch.chdir(moved)
    with duckdb.connect() as con:
        con.execute((moved / "load.sql").read_text())
        viewed = {
            t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("buyer_dim", "buyer_fact")
        }
        assert con.execute("select count(*) from buyer_empty").fetchone()[0] == 0
        assert con.execute("select sum(price) from buyer_fact").fetchone()[0] == stored_sum
    assert stored == viewed and stored["buyer_fact"] == 3000


@pytest.mark.slow
def test_duckdb_file_opens_with_the_previous_duckdb_release_line(delivered, tmp_path):
    major, minor = (int(x) for x in duckdb.__version__.split(".")[:2])
    previous = f"duckdb<{major}.{minor}" if minor else f"duckdb<{major}"
    venv = tmp_path / "previous-duckdb"
    uv = BIN / "uv"
    made = subprocess.run([str(uv), "venv", "-q", str(venv)], capture_output=True, text=True)
    installed = made.returncode == 0 and (
        subprocess.run(
            [str(uv), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), previous],
            capture_output=True,
            text=True,
            timeout=300,
        ).returncode
        == 0
    )
    if not installed:
        pytest.skip(f"could not install {previous} into a throwaway venv (no package index reachable)")
    script = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True);"
        "print(duckdb.__version__, c.execute('select count(*), sum(price)::varchar from buyer_fact').fetchone())"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, str(delivered / "probe.duckdb")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    version, counted = result.stdout.split(" ", 1)
    assert tuple(int(x) for x in version.split(".")[:2]) < (major, minor)
    assert "3000" in counted


TAMPERS = {
    "added parquet": lambda d: shutil.copy(
        d / "data/buyer_dim/part-0.parquet", d / "data/buyer_dim/part-9.parquet"
    ),
    "added anywhere": lambda d: (d / "notes.txt").write_text("hello"),
    "missing parquet": lambda d: next((d / "data/buyer_fact").glob("*.parquet")).unlink(),
    "changed parquet": lambda d: _flip_byte(next((d / "data/buyer_fact").glob("*.parquet"))),
    "appended to duckdb": lambda d: (d / "probe.duckdb").open("ab").write(b"\0" * 16),
    "missing duckdb": lambda d: (d / "probe.duckdb").unlink(),
    "changed contract": lambda d: (d / "contract.yaml").write_text("tampered"),
    "changed datapackage": lambda d: _flip_byte(d / "datapackage.json"),
    "missing load.sql": lambda d: (d / "load.sql").unlink(),
    "changed README": lambda d: (d / "README.md").open("a").write("x"),
    "missing quality report file": lambda d: (d / "quality_report/checks.json").unlink(),
    "added quality report file": lambda d: (d / "quality_report/extra.html").write_text("<p>"),
}


SPARK_READ = """
import json, sys
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
out = {}
for table in sys.argv[2:]:
    frame = spark.read.parquet(f"{sys.argv[1]}/data/{table}")  # the folder, as Spark users open it
    info = {"columns": frame.columns, "rows": frame.count(),
            "types": {f.name: f.dataType.simpleString() for f in frame.schema.fields}}
    if "price" in frame.columns:
        info["price_sum"] = str(frame.agg(F.sum("price")).first()[0])
    out[table] = info
print(json.dumps(out))
spark.stop()
"""


@pytest.mark.slow
def test_spark_reads_every_table_as_one_dataset_with_its_types(delivered, source, tmp_path):
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime on PATH")
    venv = _throwaway_venv(tmp_path, "pyspark>=4,<5")
    if venv is None:
        pytest.skip("could not install pyspark into a throwaway venv (no package index)")
    tables = ["buyer_dim", "buyer_fact", "buyer_empty"]
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SPARK_READ, str(delivered), *tables],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    read = json.loads(result.stdout.strip().splitlines()[-1])
    for table in tables:
        expected = _mart(source, "buyer_fact" if table == "buyer_empty" else table)
        assert read[table]["columns"] == expected.column_names, read[table]  # no extra partition column
        assert read[table]["rows"] == (0 if table == "buyer_empty" else expected.num_rows)
    fact = read["buyer_fact"]
    assert fact["types"]["price_date"] == "date" and fact["types"]["price"].startswith("decimal(")
    assert fact["types"]["fetched_at"] == "timestamp", fact["types"]
    assert Decimal(fact["price_sum"]) == sum(_mart(source, "buyer_fact").column("price").to_pylist())
    assert read["buyer_empty"]["types"] == fact["types"]  # the empty table ships its schema


def _flip_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.fixture(scope="module")
def reported(source, tmp_path_factory):
    report = tmp_path_factory.mktemp("report") / "quality_report"
    report.mkdir()
    (report / "index.html").write_text("<html>report</html>")
    (report / "checks.json").write_text("[]")
    return write_delivery(
        source.database_url("catalog"),
        "probe",
        TABLES,
        tmp_path_factory.mktemp("reported"),
        quality_report=report,
    )


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_verify_names_any_added_missing_or_changed_file(reported, tmp_path, tamper, capsys):
    from orchestration.cli import main

    copy = shutil.copytree(reported, tmp_path / "copy")
    assert verify_delivery(copy) == []
    before = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    TAMPERS[tamper](copy)
    after = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    problems = verify_delivery(copy)
    assert problems
    touched = (before ^ after) or {p for p in after if (copy / p).read_bytes() != (reported / p).read_bytes()}
    for name in touched:
        assert any(name in problem for problem in problems), (name, problems)
    assert main(["delivery", "verify", str(copy)]) == 1
    assert any(name in capsys.readouterr().err for name in touched)


def test_a_delta_applied_to_a_snapshot_gives_the_next_snapshot(warehouse_settings, tmp_path):
    url = warehouse_settings.database_url("catalog")
    _build(warehouse_settings)
    try:
        before = write_delivery(url, "probe", TABLES, tmp_path / "a")
        next_day = DAY + dt.timedelta(days=1)
        _build(warehouse_settings, extra_day=next_day)
        delta = write_delivery(url, "probe", TABLES, tmp_path / "b", kind="delta", day=next_day)
        after = write_delivery(url, "probe", TABLES, tmp_path / "c")
        delta_manifest = json.loads((delta / "manifest.json").read_text())
        merge = {t["name"]: t["merge"] for t in delta_manifest["tables"]}
        assert merge["buyer_fact"] == {
            "mode": "replace_partition",
            "merge_key": ["price_date", "fact_id"],
            "partition_by": "price_date",
            "partition_value": next_day.isoformat(),
        }
        assert merge["buyer_dim"]["mode"] == "replace_table" and merge["buyer_dim"]["merge_key"] == [
            "item_key"
        ]

        from orchestration.cli import main

        out = tmp_path / "applied"
        assert main(["delivery", "apply", str(delta), str(before), "--out", str(out)]) == 0
        assert verify_delivery(out) == []
        for table in ("buyer_dim", "buyer_fact", "buyer_empty"):
            applied, expected = pq.read_table(out / "data" / table), pq.read_table(after / "data" / table)
            assert applied.schema == expected.schema
            assert _fingerprint(applied, expected.column_names) == _fingerprint(
                expected, expected.column_names
            )
        assert sorted(p.name for p in (out / "data/buyer_fact").iterdir()) == sorted(
            p.name for p in (after / "data/buyer_fact").iterdir()
        )
        # applying a snapshot as if it were a delta is refused, and nothing is written
        assert main(["delivery", "apply", str(before), str(after), "--out", str(tmp_path / "wrong")]) == 1
        assert not (tmp_path / "wrong").exists()
    finally:
        _build(warehouse_settings)


def test_latest_delta_is_the_newest_day_even_after_a_backfill(source, tmp_path):
    url = source.database_url("catalog")
    newest = write_delivery(url, "probe", TABLES, tmp_path, kind="delta", day=DAY)
    older = write_delivery(url, "probe", TABLES, tmp_path, kind="delta", day=DAY - dt.timedelta(days=2))
    assert older.exists()
    assert (tmp_path / "probe" / "latest-delta").resolve() == newest.resolve()
    rerun = write_delivery(url, "probe", TABLES, tmp_path, kind="delta", day=DAY)
    assert (tmp_path / "probe" / "latest-delta").resolve() == rerun.resolve()


@pytest.fixture
def s3_server(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # credentials reach s3fs through the environment only (never argv or the URL)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="buyer-bucket")
    yield endpoint
    server.stop()


def test_s3_round_trip_over_http(source, s3_server, tmp_path, capsys):
    import s3fs

    from orchestration.cli import main

    url = source.database_url("catalog")
    published = write_delivery(url, "probe", TABLES, "s3://buyer-bucket/smartcart")
    fs = s3fs.S3FileSystem(endpoint_url=s3_server)
    delivery_id = published.rsplit("/", 1)[1]
    assert fs.cat_file("buyer-bucket/smartcart/probe/latest").decode() == delivery_id
    assert not fs.glob("buyer-bucket/smartcart/probe/*.partial")
    assert verify_delivery(published) == []
    assert main(["delivery", "verify", published]) == 0
    read = ds.dataset(f"buyer-bucket/smartcart/probe/{delivery_id}/data/buyer_fact", filesystem=fs).to_table()
    assert read.num_rows == 3000
    # the same bytes as a local delivery would hold: download it and verify offline
    local = tmp_path / "downloaded"
    fs.get(f"buyer-bucket/smartcart/probe/{delivery_id}", str(local), recursive=True)
    assert verify_delivery(local) == []
    fs.pipe_file(f"buyer-bucket/smartcart/probe/{delivery_id}/data/buyer_dim/part-7.parquet", b"smuggled")
    fs.rm(f"buyer-bucket/smartcart/probe/{delivery_id}/load.sql")
    problems = verify_delivery(published)
    assert any("part-7.parquet: not in the manifest" in p for p in problems)
    assert any("load.sql: missing" in p for p in problems)
    assert main(["delivery", "verify", published]) == 1
    capsys.readouterr()


def test_credentials_in_a_url_are_refused(source):
    from warehouse.publishing.deliveries import DeliveryError

    with pytest.raises(DeliveryError, match="environment"):
        write_delivery(source.database_url("catalog"), "probe", TABLES, "s3://key:secret@bucket/x")
    assert os.environ.get("AWS_SECRET_ACCESS_KEY") != "secret"
