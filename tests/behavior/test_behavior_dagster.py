"""The ingestion domain through Dagster: the drop-folder sensor and the ingestion job."""

from __future__ import annotations

import json
import uuid

import dagster as dg
import pytest

from orchestration.defs.ingestion.sensors import app_events_dropzone_sensor, dropzone_run_key
from orchestration.defs.resources import WarehouseResource
from orchestration.demo.trends import TrendsSummary
from warehouse.vault import Vault


def test_run_key_changes_with_the_files(tmp_path):
    assert dropzone_run_key([]) is None
    first = tmp_path / "a.jsonl"
    first.write_text("{}\n")
    key = dropzone_run_key([first])
    assert key == dropzone_run_key([first])
    first.write_text("{}\n{}\n")
    assert dropzone_run_key([first]) != key


def test_trends_summary_line():
    summary = TrendsSummary(rows={"trends_category_demand_weekly": 3}, top_category=("NSW", "Dairy", 12))
    assert (
        summary.line()
        == "trends rows (k-anonymous): category_demand_weekly 3; top cell: Dairy in NSW (12 shoppers)"
    )


@pytest.mark.integration
def test_sensor_requests_one_run_per_drop(warehouse_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCART_APP_EVENTS_DIR", str(tmp_path))
    resources = {"warehouse": WarehouseResource(smartcart_home=str(warehouse_settings.home))}
    with dg.build_sensor_context(resources=resources) as context:
        assert isinstance(app_events_dropzone_sensor(context), dg.SkipReason)
    (tmp_path / "events.jsonl.part").write_text("{}\n")  # still being written: ignored
    with dg.build_sensor_context(resources=resources) as context:
        assert isinstance(app_events_dropzone_sensor(context), dg.SkipReason)
    (tmp_path / "events.jsonl.part").rename(tmp_path / "events.jsonl")
    with dg.build_sensor_context(resources=resources) as context:
        request = app_events_dropzone_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key


@pytest.mark.integration
def test_ingestion_job_loads_a_drop_through_dagster(warehouse_settings, tmp_path):
    from orchestration.definitions import defs

    with Vault.open(warehouse_settings) as vault:
        name = f"dag-{uuid.uuid4().hex[:8]}"
        user = vault.add_user(name, f"{name}@example.org", "pw-dag-dag")
    event = {
        "event_id": uuid.uuid4().hex,
        "user_id": user.app_user_id,
        "event_type": "list_created",
        "occurred_at": "2026-03-02T10:00:00Z",
        "list_id": "l-1",
        "list_name": "mine",
    }
    (tmp_path / "one.jsonl").write_text(json.dumps(event) + "\n")
    result = defs.resolve_job_def("app_events_ingestion").execute_in_process(
        run_config={"ops": {"app_events": {"config": {"dropzone": str(tmp_path)}}}},
    )
    assert result.success
    [mat] = [
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.path == ["behavior_raw", "app_events"]
    ]
    assert mat.metadata["files_loaded"].value == 1 and mat.metadata["events_loaded"].value == 1
