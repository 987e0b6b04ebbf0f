"""Crowd price report files: validated, then loaded whole or rejected whole with reasons."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import psycopg
import pytest

from warehouse.landing.crowd_reports import parse_report_file, process_report_file, validate_reports

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _no_settle_wait(monkeypatch):
    """Files here are written whole before they are processed (the settle rule has its own tests)."""
    monkeypatch.setenv("SMARTCART_DROP_SETTLE_SECONDS", "0")


HEADER = (
    "report_id,contributor_id,report_type,product_name,barcode,retailer,store_name,store_id,township,"
    "region,price,currency,price_unit,date,discount_type,proof_type,wrong_price_reference"
)


def csv_file(tmp_path, rows: list[str], name: str | None = None, header: str = HEADER):
    path = tmp_path / (name or f"reports-{uuid.uuid4().hex[:6]}.csv")
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def good_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,anon-7f3a9c21,price,Full Cream Milk 2L,9325123761302,freshmart,FreshMart Northgate,1001,"
        "Northgate,NSW,3.10,AUD,each,2026-11-20,none,receipt,",
        f"{prefix}-2,anon-7f3a9c21,price_is_wrong,Greek Yoghurt 1kg,,nextmart,,NM101,Lakeside,NSW,5.50,AUD,,"
        "2026-11-21,promotion,shelf_photo,6.20",
    ]


# --- validation (no database) ---------------------------------------------------------
def parse(tmp_path, rows, header=HEADER):
    path = csv_file(tmp_path, rows, header=header)
    _, records, columns = parse_report_file(path, path.read_bytes())
    return validate_reports(records, columns, today=TODAY)


def test_valid_reports_are_typed(tmp_path):
    rows, reasons = parse(tmp_path, good_rows("v"))
    assert reasons == []
    price, wrong = rows
    assert str(price["price"]) == "3.10" and price["gtin"] == "9325123761302"
    assert (
        price["reported_date"] == dt.date(2026, 11, 20)
        and price["contributor_anonymous_id"] == "anon-7f3a9c21"
    )
    assert wrong["report_type"] == "price_is_wrong" and str(wrong["wrong_price_reference"]) == "6.20"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("x-1,jane.doe@example.com,price,Milk,,freshmart,,,,,3.10,AUD,,2026-11-20,,,", "e-mail address"),
        ("x-1,Jane Doe,price,Milk,,freshmart,,,,,3.10,AUD,,2026-11-20,,,", "not an anonymous id"),
        ("x-1,anon-7f3a9c21,price,Milk,,freshmart,,,,,abc,AUD,,2026-11-20,,,", "price 'abc' is not a number"),
        ("x-1,anon-7f3a9c21,price,Milk,,freshmart,,,,,3.10,AUD,,2026-13-01,,,", "is not YYYY-MM-DD"),
        ("x-1,anon-7f3a9c21,price,Milk,,freshmart,,,,,3.10,AUD,,2027-01-01,,,", "in the future"),
        ("x-1,anon-7f3a9c21,price,Milk,9325123761303,freshmart,,,,,3.10,AUD,,2026-11-20,,,", "check digit"),
        (
            "x-1,anon-7f3a9c21,price_is_wrong,Milk,,freshmart,,,,,,AUD,,2026-11-20,,,",
            "needs wrong_price_reference",
        ),
        ("x-1,anon-7f3a9c21,price,,,freshmart,,,,,3.10,AUD,,2026-11-20,,,", "needs product_name or barcode"),
        ("x-1,anon-7f3a9c21,guess,Milk,,freshmart,,,,,3.10,AUD,,2026-11-20,,,", "report_type 'guess'"),
        ("x-1,anon-7f3a9c21,price,Milk,,freshmart,,,,,3.10,AUD,,2026-11-20,,bribe,", "proof_type 'bribe'"),
    ],
)
def test_a_bad_report_rejects_with_its_reason(tmp_path, row, reason):
    rows, reasons = parse(tmp_path, [good_rows("ok")[0], row])
    assert len(reasons) == 1 and reasons[0].startswith("report 2 (x-1): ") and reason in reasons[0], reasons


def test_contributor_columns_beyond_the_anonymous_id_reject_the_file(tmp_path):
    _, reasons = parse(tmp_path, [r + ",Jane" for r in good_rows("c")], header=HEADER + ",contributor_name")
    assert any("contributor_name" in r and "anonymous id only" in r for r in reasons)


def test_duplicate_ids_within_a_file_reject_it(tmp_path):
    row = good_rows("d")[0]
    _, reasons = parse(tmp_path, [row, row])
    assert reasons == ["report 2 (d-1): report_id 'd-1' appears twice in the file"]


def test_json_files_are_read_too(tmp_path):
    path = tmp_path / "reports.json"
    path.write_text(json.dumps({"reports": [{"report_id": "j-1", "contributor_id": "anon-7f3a9c21",
                                             "product_name": "Milk", "store_name": "Corner Shop", "price": 2.5,
                                             "currency": "AUD", "date": "2026-11-20"}]}))  # fmt: skip
    file_format, records, columns = parse_report_file(path, path.read_bytes())
    rows, reasons = validate_reports(records, columns, today=TODAY)
    assert file_format == "json" and reasons == [] and rows[0]["report_type"] == "price"


# --- loading (real database, scraper role) --------------------------------------------
@pytest.fixture
def scraper_conn(warehouse_settings):
    with psycopg.connect(
        warehouse_settings.database_url("catalog", "smartcart_scraper"), autocommit=True
    ) as conn:
        yield conn


pytestmark_db = pytest.mark.integration


@pytestmark_db
def test_a_good_file_loads_whole_and_a_second_copy_is_skipped(scraper_conn, tmp_path):
    prefix = uuid.uuid4().hex[:8]
    path = csv_file(tmp_path, good_rows(prefix))
    content = path.read_bytes()
    outcome = process_report_file(scraper_conn, path, today=TODAY)
    assert (outcome.status, outcome.reports) == ("loaded", 2)
    assert outcome.moved_to == tmp_path / "loaded" / path.name and not path.exists()
    (count,) = scraper_conn.execute(
        "select count(*) from raw.crowd_price_reports where file_sha256 = %s", (outcome.file_sha256,)
    ).fetchone()
    assert count == 2
    again = tmp_path / "again.csv"
    again.write_bytes(content)
    skipped = process_report_file(scraper_conn, again, today=TODAY)
    assert skipped.status == "skipped" and (tmp_path / "skipped" / "again.csv").exists()
    (count,) = scraper_conn.execute(
        "select count(*) from raw.crowd_price_reports where file_sha256 = %s", (outcome.file_sha256,)
    ).fetchone()
    assert count == 2


@pytestmark_db
def test_a_file_with_one_bad_report_is_rejected_whole(scraper_conn, tmp_path):
    prefix = uuid.uuid4().hex[:8]
    bad = f"{prefix}-3,someone@example.com,price,Milk,,freshmart,,,,,3.10,AUD,,2026-11-20,,,"
    path = csv_file(tmp_path, [*good_rows(prefix), bad], name="mixed.csv")
    outcome = process_report_file(scraper_conn, path, today=TODAY)
    assert outcome.status == "rejected" and outcome.reports == 0
    assert (tmp_path / "rejected" / "mixed.csv").exists()
    reasons = json.loads((tmp_path / "rejected" / "mixed.csv.reasons.json").read_text())
    assert reasons["status"] == "rejected" and "e-mail address" in reasons["reasons"][0]
    status, recorded = scraper_conn.execute(
        "select status, reasons from raw.crowd_report_files where file_sha256 = %s", (outcome.file_sha256,)
    ).fetchone()
    assert status == "rejected" and recorded == outcome.reasons
    (count,) = scraper_conn.execute(
        "select count(*) from raw.crowd_price_reports where report_id like %s", (f"{prefix}-%",)
    ).fetchone()
    assert count == 0  # not even the two good reports


@pytestmark_db
def test_report_ids_loaded_before_reject_a_new_file(scraper_conn, tmp_path):
    prefix = uuid.uuid4().hex[:8]
    assert (
        process_report_file(scraper_conn, csv_file(tmp_path, good_rows(prefix)), today=TODAY).status
        == "loaded"
    )
    resent = good_rows(prefix)[0].replace("3.10", "3.20")
    outcome = process_report_file(scraper_conn, csv_file(tmp_path, [resent]), today=TODAY)
    assert outcome.status == "rejected" and "already loaded" in outcome.reasons[0]
