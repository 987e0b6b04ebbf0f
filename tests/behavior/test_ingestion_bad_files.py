"""Bad app event files never escape "whole or reject", and the drop-folder rules apply to them."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest

from warehouse.landing import ingestion
from warehouse.landing.ingestion import MAX_LINE_BYTES, ingest_dropzone
from warehouse.vault import Vault

pytestmark = pytest.mark.integration


@pytest.fixture
def app_user(warehouse_settings):
    with Vault.open(warehouse_settings) as vault:
        name = f"bad-{uuid.uuid4().hex[:8]}"
        return vault.add_user(name, f"{name}@example.org", "pw-bad-files")


def _event(user_id: str, **fields) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "user_id": user_id,
        "event_type": "item_added",
        "occurred_at": "2026-03-02T10:00:00+00:00",
        "list_id": "l1",
        "product_key": "p1",
        "quantity": 2,
        **fields,
    }


def _lines(*events) -> bytes:
    return b"".join((e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n" for e in events)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (lambda u: _event(u, event_type=["item_added"]), "unknown or missing event_type"),
        (lambda u: _event(u, event_type={"a": 1}), "unknown or missing event_type"),
        (lambda u: _event(u, list_id="a\x00b"), "list_id is not a short id"),
        (lambda u: _event(u, occurred_at="2026-03-02T10:00:00\x00+00:00"), "occurred_at"),
        (lambda u: _event(u, quantity=1e400), "not valid JSON"),  # json.dumps writes Infinity
        (lambda u: b"\xff\xfe not utf-8", "not valid JSON (or not UTF-8)"),
        (lambda u: json.dumps(_event(u, list_name="x" * (MAX_LINE_BYTES + 1))).encode(), "line longer than"),
    ],
    ids=["type-list", "type-dict", "nul-id", "nul-time", "infinity", "binary", "huge-line"],
)
def test_a_bad_line_rejects_the_file_with_reasons(warehouse_settings, app_user, tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(_lines(_event(app_user.app_user_id), line(app_user.app_user_id)))
    [result] = ingest_dropzone(warehouse_settings, tmp_path, settle=0).files
    assert result.status == "rejected" and any(reason in r for r in result.reasons), result.reasons
    assert not path.exists()
    document = json.loads((tmp_path / "rejected" / "bad.jsonl.reasons.json").read_text())
    assert document["reasons"] == result.reasons


def test_a_file_over_the_cap_and_an_unforeseen_failure_are_rejected_too(
    warehouse_settings, app_user, tmp_path, monkeypatch
):
    (tmp_path / "big.jsonl").write_bytes(_lines(*[_event(app_user.app_user_id) for _ in range(20)]))
    monkeypatch.setenv("SMARTCART_APP_EVENTS_MAX_FILE_BYTES", "1000")
    [big] = ingest_dropzone(warehouse_settings, tmp_path, settle=0).files
    assert big.status == "rejected" and "capped at 1000 bytes" in big.reasons[0]
    monkeypatch.delenv("SMARTCART_APP_EVENTS_MAX_FILE_BYTES")

    def explode(path):
        raise MemoryError("a failure no rule foresaw")

    monkeypatch.setattr(ingestion, "parse_event_file", explode)
    (tmp_path / "odd.jsonl").write_bytes(_lines(_event(app_user.app_user_id)))
    [odd] = ingest_dropzone(warehouse_settings, tmp_path, settle=0).files
    assert odd.status == "rejected" and "MemoryError: a failure no rule foresaw" in odd.reasons[0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == []


def test_event_files_follow_the_drop_folder_rules(warehouse_settings, app_user, tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCART_DROP_SETTLE_SECONDS", "30")
    (tmp_path / "writing.jsonl.part").write_bytes(_lines(_event(app_user.app_user_id)))
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_bytes(_lines(_event(app_user.app_user_id)))
    summary = ingest_dropzone(warehouse_settings, tmp_path)
    assert summary.files == [] and fresh.exists()  # too young: not read at all
    then = time.time() - 60
    os.utime(fresh, (then, then))
    [result] = ingest_dropzone(warehouse_settings, tmp_path).files
    assert (result.status, result.events_loaded) == ("loaded", 1)
    assert (tmp_path / "loaded" / "fresh.jsonl").exists() and (tmp_path / "writing.jsonl.part").exists()
    # The same content again: skipped, into the same set of folders as crowd reports.
    (tmp_path / "again.jsonl").write_bytes((tmp_path / "loaded" / "fresh.jsonl").read_bytes())
    os.utime(tmp_path / "again.jsonl", (then, then))
    [again] = ingest_dropzone(warehouse_settings, tmp_path).files
    assert again.status == "skipped" and (tmp_path / "skipped" / "again.jsonl").exists()
