"""Watches the crowd reports drop folder and launches one loader run per new file."""

import dagster as dg

from orchestration.defs.crowd_reports.assets import crowd_reports_job
from orchestration.defs.resources import WarehouseResource
from warehouse.landing.crowd_reports import SUPPORTED, dropzone_dir


def pending_report_files(folder) -> list:
    """Files waiting in the drop folder (not its loaded/ rejected/ skipped/ subfolders), oldest first."""
    if not folder.exists():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


@dg.sensor(job=crowd_reports_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def crowd_reports_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    folder = dropzone_dir(warehouse.settings())
    folder.mkdir(parents=True, exist_ok=True)
    files = pending_report_files(folder)
    if not files:
        return dg.SkipReason(f"no report files in {folder}")
    requests = []
    for path in files:
        stat = path.stat()
        # The run moves the file away; the key only stops a second run for the same drop.
        run_key = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                run_config={"ops": {"crowd_price_reports": {"config": {"path": str(path)}}}},
                tags={"smartcart/crowd_report_file": path.name},
            )
        )
    return requests
