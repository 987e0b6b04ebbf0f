"""The drop-folder sensor launches one loader run per file; a malformed file is rejected whole."""

from __future__ import annotations

import json

import dagster as dg
import psycopg
import pytest

from orchestration.defs.crowd_reports.assets import crowd_price_reports
from orchestration.defs.crowd_reports.sensors import crowd_reports_sensor
from orchestration.defs.resources import WarehouseResource

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _no_settle_wait(monkeypatch):
    """Files here are written whole before they are processed (the settle rule has its own tests)."""
    monkeypatch.setenv("SMARTCART_DROP_SETTLE_SECONDS", "0")


def run_sensor(warehouse_settings):
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"warehouse": WarehouseResource()})
        return crowd_reports_sensor(context)


def test_sensor_skips_an_empty_folder(warehouse_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCART_CROWD_REPORTS_DIR", str(tmp_path / "drop"))
    result = run_sensor(warehouse_settings)
    assert isinstance(result, dg.SkipReason) and "no report files" in result.skip_message


def test_sensor_rejects_a_malformed_file_whole_with_reasons(warehouse_settings, tmp_path, monkeypatch):
    drop = tmp_path / "drop"
    drop.mkdir()
    monkeypatch.setenv("SMARTCART_CROWD_REPORTS_DIR", str(drop))
    (drop / "broken.json").write_text('[{"report_id": "b-1", "contributor_id": "anon-12345678", "price": 3.1')
    (drop / "notes.txt").write_text("ignored: not a report file")

    requests = run_sensor(warehouse_settings)
    assert len(requests) == 1
    (request,) = requests
    assert request.run_config["ops"]["crowd_price_reports"]["config"]["path"] == str(drop / "broken.json")

    result = dg.materialize(
        [crowd_price_reports], run_config=request.run_config, resources={"warehouse": WarehouseResource()}
    )
    assert result.success
    metadata = result.asset_materializations_for_node("crowd_price_reports")[0].metadata
    assert metadata["status"].value == "rejected"
    reasons = json.loads((drop / "rejected" / "broken.json.reasons.json").read_text())["reasons"]
    assert len(reasons) == 1 and reasons[0].startswith("JSON is malformed")
    assert not (drop / "broken.json").exists() and (drop / "notes.txt").exists()
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        status, recorded = conn.execute(
            "select status, reasons from raw.crowd_report_files where file_name = 'broken.json'"
        ).fetchone()
    assert status == "rejected" and recorded == reasons
    assert isinstance(run_sensor(warehouse_settings), dg.SkipReason)  # nothing left to pick up
