"""A tiny code location for the run-queue fault tests: a day-partitioned asset that holds its
partition for a while and starts a child process, as a crawl or a dbt build would."""

import os
import subprocess
import time
from pathlib import Path

import dagster as dg

days = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(partitions_def=days, description="Sleeps with a child process, writing what it did.")
def slow_partition(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    out = Path(os.environ["SMARTCART_FAULT_DIR"])
    child = subprocess.Popen(["sleep", "600"])
    (out / f"{context.run.run_id}.child").write_text(str(child.pid))
    (out / f"{context.run.run_id}.started").write_text(str(time.time()))
    hold = out / f"hold-{context.partition_key}"  # the test decides how long a partition is held
    time.sleep(float(hold.read_text()) if hold.exists() else 12.0)
    child.terminate()
    child.wait()
    (out / f"{context.run.run_id}.finished").write_text(str(time.time()))
    return dg.MaterializeResult(metadata={"dagster/row_count": 0})


from orchestration.defs.runs.sensors import stop_children_of_failed_runs  # noqa: E402

defs = dg.Definitions(
    assets=[slow_partition],
    jobs=[dg.define_asset_job("slow_partition_job", [slow_partition])],
    sensors=[stop_children_of_failed_runs],  # the same run hygiene as the SmartCart location
)
