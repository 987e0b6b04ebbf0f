"""Bad crowd report files never escape "whole or reject": linear validation, size caps, every
exception a rejection with reasons, and contributor ids that could identify someone refused."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest

from warehouse.landing import crowd_reports
from warehouse.landing.crowd_reports import (
    MAX_FIELD_CHARS,
    contains_email,
    contributor_id_problem,
    parse_report_file,
    process_report_file,
    validate_reports,
)

HEADER = "report_id,contributor_id,product_name,store_name,price,currency,date"
NAME_WITH_NUL = "Mi\x00lk"


@pytest.fixture(autouse=True)
def _no_settle_wait(monkeypatch):
    """Files here are written whole before they are processed (the settle rule has its own tests)."""
    monkeypatch.setenv("SMARTCART_DROP_SETTLE_SECONDS", "0")


def _validate(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    _, records, columns = parse_report_file(path, content)
    return validate_reports(records, columns)


# --- linear validation and caps ------------------------------------------------------------
@pytest.mark.parametrize(
    "field",
    [
        "a" * 5_000_000,  # the quadratic e-mail regex ran past 300 s on this
        "a@" * 2_500_000,  # many "@" and no dot: worst case for a backtracking search
        ("x" * 80_000) + "@",  # the 80 KB case of the issue (17.6 s before)
    ],
    ids=["5MB-plain", "5MB-ats", "80KB-at-end"],
)
def test_a_huge_field_is_rejected_fast_with_its_reason(tmp_path, field):
    document = [{"report_id": "h-1", "contributor_id": "anon-7f3a9c21", "product_name": field,
                 "store_name": "Corner", "price": "2.50", "currency": "AUD", "date": "2026-11-20"}]  # fmt: skip
    started = time.perf_counter()
    rows, reasons = _validate(tmp_path, "huge.json", json.dumps(document).encode())
    elapsed = time.perf_counter() - started
    assert elapsed < 3, f"validation took {elapsed:.1f} s"
    assert rows == [] and len(reasons) == 1
    assert f"product_name is {len(field)} characters long (at most {MAX_FIELD_CHARS})" in reasons[0]
    assert len(reasons[0]) < 300  # the reason never echoes the field


def test_a_huge_csv_field_is_a_reason_not_a_crash(tmp_path):
    content = f"{HEADER}\nh-1,anon-7f3a9c21,{'b' * 5_000_000},Corner,2.50,AUD,2026-11-20\n".encode()
    started = time.perf_counter()
    with pytest.raises(crowd_reports.ReportFileError, match="longer than"):
        parse_report_file(tmp_path / "huge.csv", content)
    assert time.perf_counter() - started < 3


def test_email_detection_is_linear_and_still_finds_addresses():
    assert contains_email("call me: jane.doe@example.com")
    assert not contains_email("Milk 2L @ 3.10") and not contains_email("a@b") and not contains_email("@home.")
    for text in ("a" * 2_000_000, "a@" * 1_000_000, "@." * 1_000_000):
        started = time.perf_counter()
        contains_email(text)
        assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e400", "not a plausible amount"),
        ("1e-400", None),  # tiny: rounds to 0.00, still a number
        ("NaN", "non-negative amount"),
        ("Infinity", "non-negative amount"),
        ("-2.00", "non-negative amount"),
        ("99999999999", "not a plausible amount"),
    ],
)
def test_extreme_numbers_are_reasons(tmp_path, value, reason):
    content = f"{HEADER}\nn-1,anon-7f3a9c21,Milk,Corner,{value},AUD,2026-11-20\n".encode()
    rows, reasons = _validate(tmp_path, "numbers.csv", content)
    if reason is None:
        assert reasons == [] and len(rows) == 1
    else:
        assert rows == [] and len(reasons) == 1 and reason in reasons[0], reasons


def test_non_finite_json_numbers_and_nested_values_are_reasons(tmp_path):
    content = (
        b'[{"report_id": "j-1", "contributor_id": "anon-7f3a9c21", "product_name": "Milk",'
        b' "store_name": "Corner", "price": NaN, "currency": "AUD", "date": "2026-11-20"},'
        b' {"report_id": "j-2", "contributor_id": "anon-7f3a9c21", "product_name": {"x": 1},'
        b' "store_name": "Corner", "price": 1e400, "currency": "AUD", "date": "2026-11-20"}]'
    )
    rows, reasons = _validate(tmp_path, "odd.json", content)
    assert rows == [] and len(reasons) == 2
    assert "price is not a finite number" in reasons[0]
    assert "product_name is a dict" in reasons[1] and "price is not a finite number" in reasons[1]


# --- contributor ids -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contributor", "kind"),
    [
        ("0412345678", "phone number"),
        ("+61412345678", "phone number"),
        ("+61 (4) 1234-5678", "phone number"),
        ("user-0412345678", "phone number"),
        ("janedoe1985", "user name or handle"),
        ("marie_dupont", "user name or handle"),
        ("JaneDoe", "user name or handle"),
        ("jane.doe@example.com", "e-mail"),
        ("@janedoe", "social handle"),
        ("", "missing"),
    ],
)
def test_identifying_contributor_ids_are_refused_without_repeating_them(contributor, kind):
    problem = contributor_id_problem(contributor)
    assert problem is not None and kind in problem
    assert not contributor or contributor not in problem


@pytest.mark.parametrize(
    "contributor",
    [
        "anon-7f3a9c21",
        "c-0a1b2c3d4e5f",
        str(uuid.uuid4()),
        uuid.uuid4().hex,
        "anon_DEADBEEF99",
        "1234567890123456",
    ],
)
def test_opaque_anonymous_ids_are_accepted(contributor):
    assert contributor_id_problem(contributor) is None


# --- every failure is a rejected file with reasons (real database) ----------------------------
@pytest.fixture
def scraper_conn(warehouse_settings):
    with psycopg.connect(
        warehouse_settings.database_url("catalog", "smartcart_scraper"), autocommit=True
    ) as conn:
        yield conn


def _drop(tmp_path, name: str, content: bytes):
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    path = drop / name
    path.write_bytes(content)
    return path


def _assert_rejected(conn, path, outcome, expected_reason: str):
    assert outcome.status == "rejected", outcome
    assert not path.exists(), "nothing may stay in the drop folder without a verdict"
    moved = path.parent / "rejected" / path.name
    document = json.loads(moved.with_name(moved.name + ".reasons.json").read_text())
    assert any(expected_reason in r for r in document["reasons"]), document
    status, recorded = conn.execute(
        "select status, reasons from raw.crowd_report_files where file_sha256 = %s", (outcome.file_sha256,)
    ).fetchone()
    assert status == "rejected" and recorded == document["reasons"]
    assert conn.execute(
        "select count(*) from raw.crowd_price_reports where file_sha256 = %s", (outcome.file_sha256,)
    ).fetchone() == (0,)


def _row(
    report_id: str, product: str = "Milk", price: str = "2.50", contributor: str = "anon-7f3a9c21"
) -> str:
    return f"{report_id},{contributor},{product},Corner,{price},AUD,2026-11-20"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda p: f"{HEADER}\n{_row(p + '-1', NAME_WITH_NUL)}\n".encode(), "control character"),
        (lambda p: f"{HEADER}\n{_row(p + '-1', price='1e400')}\n".encode(), "not a plausible amount"),
        (lambda p: f"{HEADER}\n{_row(p + '-1', 'Crème')}\n".encode("latin-1"), "not UTF-8"),
        (lambda p: f"{HEADER}\n{_row(p + '-1', contributor='0412345678')}\n".encode(), "phone number"),
        (lambda p: f"{HEADER}\n{_row(p + '-1', contributor='janedoe1985')}\n".encode(), "handle"),
        (lambda p: b"\xff\xfe\x00\x00garbage", "not UTF-8"),
        (lambda p: f"{HEADER}\n{_row(p + '-1', 'x' * 2_000_000)}\n".encode(), "longer than"),
    ],
    ids=["nul", "1e400", "latin-1", "phone", "handle", "binary", "huge-field"],
)
def test_bad_files_are_rejected_whole_with_reasons(scraper_conn, tmp_path, content, reason):
    prefix = uuid.uuid4().hex[:8]
    path = _drop(tmp_path, f"{prefix}.csv", content(prefix))
    outcome = process_report_file(scraper_conn, path)
    _assert_rejected(scraper_conn, path, outcome, reason)


@pytest.mark.integration
def test_a_file_over_the_size_cap_is_rejected_unread(scraper_conn, tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCART_CROWD_MAX_FILE_BYTES", "1000")
    prefix = uuid.uuid4().hex[:8]
    path = _drop(
        tmp_path,
        f"{prefix}.csv",
        (HEADER + "\n" + "\n".join(_row(f"{prefix}-{i}") for i in range(40))).encode(),
    )
    outcome = process_report_file(scraper_conn, path)
    _assert_rejected(scraper_conn, path, outcome, "capped at 1000 bytes")


@pytest.mark.integration
def test_an_unforeseen_exception_still_rejects_the_file_with_its_reason(scraper_conn, tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RecursionError("a rule no one foresaw")

    monkeypatch.setattr(crowd_reports, "validate_reports", explode)
    prefix = uuid.uuid4().hex[:8]
    path = _drop(tmp_path, f"{prefix}.csv", f"{HEADER}\n{_row(prefix + '-1')}\n".encode())
    outcome = process_report_file(scraper_conn, path)
    _assert_rejected(scraper_conn, path, outcome, "RecursionError: a rule no one foresaw")
