"""Open Prices exports (CSV, JSONL) load beside the crowd format, whole or rejected whole; a
contributor's username is never stored (keyed pseudonym under the vault's key); prices are read
locale-aware ("2,15" EUR is 2.15) and an ambiguous "1.234" is a reason, never a guess."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
from pathlib import Path

import psycopg
import pytest

from warehouse.landing.crowd_reports import parse_report_file, process_report_file, validate_reports
from warehouse.landing.open_prices import OWNER_PSEUDONYM_PURPOSE, is_open_prices, to_crowd_records

DATA = Path(__file__).parent / "data" / "open_prices"
USERNAMES = ("marie_dupont", "jean.martin42", "shop-import-bot")
TODAY = dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _no_settle_wait(monkeypatch):
    monkeypatch.setenv("SMARTCART_DROP_SETTLE_SECONDS", "0")


def _fixture(tmp_path, name: str) -> tuple[Path, str]:
    """A copy of a fixture with ids of its own (every test loads fresh reports)."""
    prefix = str(random.randrange(10**8, 10**9))
    path = tmp_path / "drop" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text((DATA / name).read_text().replace("{ID}", prefix))
    return path, prefix


def _fake_pseudonyms(owners):
    return {owner: hashlib.sha256(owner.encode()).hexdigest() for owner in owners}


# --- mapping (no database) ----------------------------------------------------------------------
def test_open_prices_columns_and_enums_map_onto_crowd_reports(tmp_path):
    path, prefix = _fixture(tmp_path, "valid.csv")
    _, records, columns = parse_report_file(path, path.read_bytes())
    assert is_open_prices(columns)
    mapped, reasons = to_crowd_records(records, _fake_pseudonyms)
    assert reasons == []
    rows, reasons = validate_reports(mapped, sorted({k for r in mapped for k in r}), today=TODAY)
    assert reasons == [] and len(rows) == 5
    nutella, coke, apples, milk, bananas = rows
    assert nutella["report_id"] == f"openprices-{prefix}1" and nutella["gtin"] == "3017620422003"
    assert str(nutella["price"]) == "3.49" and nutella["store_id"] == "osm:node/4214342293"
    assert (str(coke["was_price"]), coke["price_is_discounted"], coke["discount_type"]) == (
        "2.15",
        True,
        "promotion",
    )
    assert (apples["category_tag"], apples["price_unit"], apples["gtin"]) == ("en:apples", "kg", None)
    assert apples["store_id"] == "osm:way/28937216" and apples["proof_type"] == "receipt"
    assert (milk["discount_type"], milk["proof_type"]) == ("member_price", "gdpr_request")
    assert bananas["proof_type"] == "shop_import" and bananas["store_id"] == "osm:relation/9112233"
    text = json.dumps([{k: str(v) for k, v in r.items()} for r in rows])
    assert not any(name in text for name in USERNAMES)


def test_a_bad_row_rejects_the_export_with_its_reasons(tmp_path):
    path, prefix = _fixture(tmp_path, "one_bad_row.csv")
    _, records, _ = parse_report_file(path, path.read_bytes())
    mapped, reasons = to_crowd_records(records, _fake_pseudonyms)
    assert len(reasons) == 1 and reasons[0].startswith(f"report 3 ({prefix}3): ")
    assert "PLANET" in reasons[0] and "HAPPY_HOUR" in reasons[0]


@pytest.mark.parametrize(
    ("price", "locale", "expected"),
    [("2,15", "", "2.15"), ("3.49", "", "3.49"), ("1.234,50", "", "1234.50"), ("1.234", "de_DE", "1234.00"),
     ("1.234", "en_AU", "1.23"), ("1.234", "", None), ("12,345", "", None)],
)  # fmt: skip
def test_crowd_prices_are_read_by_locale_and_never_guessed(price, locale, expected):
    record = {"report_id": "p-1", "contributor_id": "anon-7f3a9c21", "product_name": "Milch", "store_name": "Aldi",
              "price": price, "currency": "EUR", "date": "2026-11-20", "locale": locale}  # fmt: skip
    rows, reasons = validate_reports([record], sorted(record), today=TODAY)
    if expected is None:
        assert rows == [] and "is ambiguous" in reasons[0] and "locale" in reasons[0]
    else:
        assert reasons == [] and str(rows[0]["price"]) == expected


# --- loading (real database, real vault key) -----------------------------------------------------
@pytest.fixture
def scraper_conn(warehouse_settings):
    with psycopg.connect(
        warehouse_settings.database_url("catalog", "smartcart_scraper"), autocommit=True
    ) as conn:
        yield conn


def _stored_text(settings) -> str:
    """Every text a catalog raw table or a reasons column holds, for leak checks."""
    with psycopg.connect(settings.database_url("catalog")) as conn:
        reports = conn.execute("select row_to_json(r)::text from raw.crowd_price_reports r").fetchall()
        files = conn.execute("select row_to_json(f)::text from raw.crowd_report_files f").fetchall()
    return "\n".join(t for (t,) in [*reports, *files])


@pytest.mark.integration
@pytest.mark.parametrize("name", ["valid.csv", "valid.jsonl"])
def test_an_export_loads_whole_and_usernames_become_keyed_pseudonyms(
    warehouse_settings, scraper_conn, tmp_path, name
):
    path, prefix = _fixture(tmp_path, name)
    expected_reports = len(path.read_text().strip().splitlines()) - (1 if name.endswith(".csv") else 0)
    outcome = process_report_file(scraper_conn, path, today=TODAY)
    assert outcome.status == "loaded", outcome.reasons
    assert outcome.reports == expected_reports
    rows = scraper_conn.execute(
        "select report_id, contributor_anonymous_id, price, was_price, price_unit from raw.crowd_price_reports"
        " where report_id like %s order by report_id",
        (f"openprices-{prefix}%",),
    ).fetchall()
    assert len(rows) == outcome.reports
    (source_format,) = scraper_conn.execute(
        "select source_format from raw.crowd_report_files where file_sha256 = %s", (outcome.file_sha256,)
    ).fetchone()
    assert source_format == "open_prices"
    # The username is gone; its pseudonym is the HMAC under the vault's key, the same in every file.
    with psycopg.connect(warehouse_settings.database_url("vault")) as vault_conn:
        (key,) = vault_conn.execute(
            "select hmac_key from vault.pseudonym_keys where purpose = %s", (OWNER_PSEUDONYM_PURPOSE,)
        ).fetchone()
    expected = "op-" + hmac.new(bytes(key), b"marie_dupont", hashlib.sha256).hexdigest()
    assert rows[0][1] == rows[1][1] == expected
    stored = _stored_text(warehouse_settings)
    assert not any(username in stored for username in USERNAMES)
    assert bytes(key).hex() not in stored
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        assert not conn.execute(
            "select 1 from information_schema.tables where table_name = 'pseudonym_keys'"
        ).fetchone()  # the key lives with the vault only


@pytest.mark.integration
def test_an_export_with_one_bad_row_is_rejected_whole_without_naming_its_contributor(
    warehouse_settings, scraper_conn, tmp_path
):
    path, prefix = _fixture(tmp_path, "one_bad_row.csv")
    outcome = process_report_file(scraper_conn, path, today=TODAY)
    assert outcome.status == "rejected" and len(outcome.reasons) == 1
    assert scraper_conn.execute(
        "select count(*) from raw.crowd_price_reports where report_id like %s", (f"openprices-{prefix}%",)
    ).fetchone() == (0,)
    reasons_file = path.parent / "rejected" / (path.name + ".reasons.json")
    assert "marie_dupont" not in reasons_file.read_text() and "marie_dupont" not in _stored_text(
        warehouse_settings
    )
