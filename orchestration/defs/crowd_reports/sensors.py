"""Watches the crowd reports drop folder and launches one loader run per settled file
(the drop-folder rules of ``warehouse.landing.drop_folder``: ``*.part`` ignored, settle time)."""

import dagster as dg

from orchestration.defs.crowd_reports.assets import crowd_reports_job
from orchestration.defs.resources import WarehouseResource
from warehouse.landing.crowd_reports import SUPPORTED, dropzone_dir
from warehouse.landing.drop_folder import (
    SENSOR_INTERVAL_SECONDS,
    settle_seconds,
    settled_files,
    unsettled_files,
)


@dg.sensor(
    job=crowd_reports_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def crowd_reports_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    folder = dropzone_dir(warehouse.settings())
    folder.mkdir(parents=True, exist_ok=True)
    settle = settle_seconds()
    files = settled_files(folder, SUPPORTED, settle)
    if not files:
        changing = unsettled_files(folder, SUPPORTED, settle)
        if changing:
            return dg.SkipReason(
                f"{len(changing)} report file(s) in {folder} changed in the last {settle:g} s "
                "(SMARTCART_DROP_SETTLE_SECONDS); they load once they stop changing"
            )
        return dg.SkipReason(f"no report files in {folder}")
    return [
        dg.RunRequest(
            # The run moves the file away; the key only stops a second run for the same drop.
            run_key=dropped.key,
            run_config={"ops": {"crowd_price_reports": {"config": {"path": str(dropped.path)}}}},
            tags={"smartcart/crowd_report_file": dropped.path.name},
        )
        for dropped in files
    ]
