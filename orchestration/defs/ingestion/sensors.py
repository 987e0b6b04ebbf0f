"""Start an ingestion run when app event files land in the drop folder and have settled
(the drop-folder rules of ``warehouse.landing.drop_folder``: ``*.part`` ignored, settle time)."""

import hashlib

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from warehouse.landing.drop_folder import SENSOR_INTERVAL_SECONDS
from warehouse.landing.ingestion import app_events_dropzone, pending_event_files

app_events_ingestion = dg.define_asset_job(
    "app_events_ingestion",
    selection=dg.AssetSelection.groups("ingestion"),
    description="Load the app event files waiting in the drop folder (pseudonymized through the vault).",
)


def dropzone_run_key(files) -> str | None:
    """Same files (names, sizes, mtimes) -> same key, so one drop triggers one run."""
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


@dg.sensor(
    job=app_events_ingestion,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches the app-events drop folder (*.jsonl once unchanged for the settle time; "
    "*.part ignored: write *.part then rename).",
)
def app_events_dropzone_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    dropzone = app_events_dropzone(warehouse.settings())
    files = pending_event_files(dropzone)
    key = dropzone_run_key(files)
    if key is None:
        return dg.SkipReason(f"no event files in {dropzone}")
    return dg.RunRequest(run_key=key, tags={"smartcart/event_files": str(len(files))})
