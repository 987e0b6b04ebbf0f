import dagster as dg

from orchestration.defs.runs.sensors import stop_children_of_failed_runs

defs = dg.Definitions(sensors=[stop_children_of_failed_runs])
