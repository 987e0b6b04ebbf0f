"""The backup asset through Dagster: a real backup set, its size and duration in the metadata."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.defs.operations.assets import database_backup
from orchestration.defs.operations.definitions import database_backup_nightly
from orchestration.defs.resources import WarehouseResource
from warehouse.platform.config import DATABASES, Settings


@pytest.mark.integration
def test_backup_asset_reports_size_and_duration(warehouse_settings: Settings, tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCART_BACKUP_DIR", str(tmp_path))
    result = dg.materialize(
        [database_backup],
        resources={"warehouse": WarehouseResource(smartcart_home=str(warehouse_settings.home))},
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("operations__database_backup")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    [backup_set] = list(tmp_path.iterdir())
    manifest = json.loads((backup_set / "manifest.json").read_text())
    assert metadata["size_bytes"] == sum(entry["bytes"] for entry in manifest["databases"].values()) > 0
    assert metadata["duration_seconds"] > 0 and metadata["backup_set"] == str(backup_set)
    assert sorted(manifest["databases"]) == sorted(DATABASES)


def test_nightly_backup_schedule_is_off_by_default():
    assert database_backup_nightly.default_status == dg.DefaultScheduleStatus.STOPPED
