"""Run hygiene: when a run fails, stop the child processes its dead worker left behind."""

import dagster as dg

from orchestration.dagster_launcher import stop_leftover_children


@dg.run_failure_sensor(
    name="stop_children_of_failed_runs",
    description="A failed run whose worker died leaves no crawl, dbt or step process running: stop "
    "the children the run-worker health check recorded.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=True,
    minimum_interval_seconds=5,
)
def stop_children_of_failed_runs(context: dg.RunFailureSensorContext) -> None:
    stopped = stop_leftover_children(context.instance.root_directory, context.dagster_run.run_id)
    if stopped:
        context.log.info(f"run {context.dagster_run.run_id}: stopped leftover processes {stopped}")
