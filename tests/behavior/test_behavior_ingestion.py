"""App event ingestion: pseudonymized through the vault, PII dropped, whole file or nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest

from warehouse.landing.ingestion import ingest_dropzone, parse_event_file, postcode_region
from warehouse.vault import Vault

pytestmark = pytest.mark.integration


def _event(user_id: str, event_type: str = "item_added", **fields) -> dict:
    base = {
        "event_id": uuid.uuid4().hex,
        "user_id": user_id,
        "event_type": event_type,
        "occurred_at": "2026-03-02T10:00:00+00:00",
    }
    defaults = {
        "list_created": {"list_id": "l1", "list_name": "Party for Ann Smith"},
        "item_added": {"list_id": "l1", "product_key": "p1", "quantity": 2},
        "item_removed": {"list_id": "l1", "product_key": "p1"},
        "preference_set": {"preference": "organic", "value": True},
        "substitution_chosen": {"list_id": "l1", "from_product_key": "p1", "to_product_key": "p2"},
        "optimizer_request": {"list_id": "l1", "postcode": "3000", "max_stores": 2},
    }[event_type]
    return {**base, **defaults, **fields}


def _write(folder: Path, name: str, events: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


@pytest.fixture
def users(warehouse_settings):
    with Vault.open(warehouse_settings) as vault:
        made = [
            vault.add_user(f"ing-{uuid.uuid4().hex[:8]}", f"ing-{uuid.uuid4().hex[:8]}@example.org", "pw-x")
            for _ in range(3)
        ]
    return made


def _behavior(settings):
    return psycopg.connect(settings.database_url("behavior"))


def test_postcode_is_coarsened_to_a_state():
    assert [postcode_region(p) for p in ("2000", "2600", "3006", "4101", "0800", "7000", "x", "12")] == [
        "NSW", "ACT", "VIC", "QLD", "NT", "TAS", "unknown", "unknown",
    ]  # fmt: skip


def test_parse_rejects_contract_violations_with_line_numbers_not_values(tmp_path):
    secret = "app-secret-user"
    path = _write(
        tmp_path,
        "bad.jsonl",
        [
            _event(secret),
            {"not": "an event"},
            _event(secret, quantity=-1),
            _event(secret, "optimizer_request", max_stores=99),
            _event(secret, occurred_at="yesterday"),
            _event(secret, list_id=f"{secret}-list"),
        ],
    )
    (tmp_path / "bad.jsonl").open("a").write("{broken json\n")
    parsed = parse_event_file(path)
    assert parsed.events == []
    rendered = " | ".join(parsed.reasons.render())
    for expected in (
        "(2)",
        "(3)",
        "(4)",
        "(5)",
        "(6)",
        "not valid JSON (or not UTF-8): 1 line(s) (7)",
        "embeds the app user id",
    ):
        assert expected in rendered
    assert secret not in rendered


def test_ingest_pseudonymizes_drops_pii_and_loads_whole_file(warehouse_settings, users, tmp_path):
    a, b, _ = users
    events = [
        _event(a.app_user_id, "list_created", email=a.email, device_ip="10.0.0.1"),
        _event(a.app_user_id),
        _event(b.app_user_id, "optimizer_request"),
        _event(b.app_user_id, "substitution_chosen", username=b.username),
        _event(b.app_user_id, "preference_set"),
        _event(a.app_user_id, "item_removed"),
    ]
    path = _write(tmp_path, "good.jsonl", events)
    summary = ingest_dropzone(warehouse_settings, tmp_path)
    [result] = summary.files
    assert (result.status, result.events_loaded, result.fields_dropped, result.users) == ("loaded", 6, 3, 2)
    assert not path.exists() and (tmp_path / "loaded" / "good.jsonl").exists()
    with Vault.open(warehouse_settings) as vault:
        anon = {
            k: str(v.anonymous_user_id)
            for k, v in vault.pseudonymize([a.app_user_id, b.app_user_id], "t").items()
        }
    with _behavior(warehouse_settings) as conn:
        rows = conn.execute(
            "select event_id, anonymous_user_id::text, event_type, payload from raw.app_events"
            " where file_sha256 = %s",
            (result.file_sha256,),
        ).fetchall()
        assert conn.execute(
            "select events from raw.event_files where file_sha256 = %s", (result.file_sha256,)
        ).fetchone() == (6,)
    by_id = {r[0]: r for r in rows}
    assert {r[1] for r in rows} == {anon[a.app_user_id], anon[b.app_user_id]}
    assert by_id[events[0]["event_id"]][3] == {"list_id": "l1"}  # email, ip and list name gone
    assert by_id[events[2]["event_id"]][3] == {"list_id": "l1", "region": "VIC", "max_stores": 2}
    assert by_id[events[3]["event_id"]][3] == {
        "list_id": "l1",
        "from_product_key": "p1",
        "to_product_key": "p2",
    }
    text = json.dumps([list(map(str, r)) for r in rows])
    for value in (a.app_user_id, b.app_user_id, a.email, b.username, "10.0.0.1", "Ann Smith", "3000"):
        assert value not in text

    # Same file again (same checksum): skipped, nothing duplicated.
    _write(tmp_path, "again.jsonl", events)
    [again] = ingest_dropzone(warehouse_settings, tmp_path).files
    assert again.status == "skipped"
    # Same events under another checksum: rejected whole (event ids already loaded).
    _write(tmp_path, "overlap.jsonl", events + [_event(a.app_user_id)])
    [overlap] = ingest_dropzone(warehouse_settings, tmp_path).files
    assert overlap.status == "rejected" and "already loaded" in overlap.reasons[0]


def test_unknown_user_rejects_the_whole_file_without_naming_them(warehouse_settings, users, tmp_path):
    a = users[0]
    stranger = "app-" + uuid.uuid4().hex
    events = [_event(a.app_user_id), _event(stranger), _event(a.app_user_id)]
    _write(tmp_path, "mixed.jsonl", events)
    [result] = ingest_dropzone(warehouse_settings, tmp_path).files
    assert result.status == "rejected"
    assert result.reasons[0] == "1 user id(s) unknown to the vault: 1 line(s) (2)"
    reasons_file = tmp_path / "rejected" / "mixed.jsonl.reasons.json"
    assert reasons_file.exists() and stranger not in reasons_file.read_text()
    with _behavior(warehouse_settings) as conn:
        assert conn.execute(
            "select count(*) from raw.app_events where event_id = any(%s)", ([e["event_id"] for e in events],)
        ).fetchone() == (0,)
        assert (
            conn.execute(
                "select reasons from raw.rejected_event_files where file_sha256 = %s", (result.file_sha256,)
            ).fetchone()[0]
            == result.reasons
        )


def test_erased_users_events_are_dropped_and_consents_republished(warehouse_settings, users, tmp_path):
    keep, gone, _ = users
    with Vault.open(warehouse_settings) as vault:
        vault.set_consent(keep.username, "trend_sharing", True)
        vault.request_erasure(gone.username)
        anon_keep = vault.pseudonymize([keep.app_user_id], "t")[keep.app_user_id].anonymous_user_id
    _write(
        tmp_path, "late.jsonl", [_event(keep.app_user_id), _event(gone.app_user_id), _event(gone.app_user_id)]
    )
    summary = ingest_dropzone(warehouse_settings, tmp_path)
    [result] = summary.files
    assert (result.status, result.events_loaded, result.events_dropped_erased) == ("loaded", 1, 2)
    assert summary.erasures_processed >= 1
    with _behavior(warehouse_settings) as conn:
        consents = dict(
            conn.execute("select anonymous_user_id, trend_sharing from raw.trend_consents").fetchall()
        )
    assert consents[anon_keep] is True
    with Vault.open(warehouse_settings) as vault:
        assert vault.get_user(gone.app_user_id).erased_at is not None
