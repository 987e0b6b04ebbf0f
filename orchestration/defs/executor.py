"""The code location's executor: Dagster's own multi-or-in-process executor, with step workers forked
from a forkserver that has already imported the code location (ADR 0025).

Dagster's default start method is ``spawn``: every step worker is a fresh interpreter that imports
``orchestration.definitions`` again (dagster, dagster-dbt, dbt, pyomo, scipy, pyarrow: about 13 s
of CPU each). A run of ``catalog_pipeline`` has a dozen steps, so on two cores the imports cost more
than the work. ``forkserver`` is Dagster's documented option for this: one server process per run
imports the code location once, and each step worker is forked from it.

Run config still chooses: ``execution: {config: {in_process: {}}}`` runs in one process, and
``multiprocess: {start_method: {spawn: {}}}`` brings spawn back. Only an unset start method becomes
``forkserver``. Production executors (k8s, Celery) replace this whole definition.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from orchestration.runs import DEFINITIONS_MODULE

# Dagster preloads the job's module only when the run worker knows it; a run launched from the code
# server does not, so name the code location here.
DEFAULT_START_METHOD = {"forkserver": {"preload_modules": [DEFINITIONS_MODULE]}}


def _forkserver_unless_told(config: dict[str, Any]) -> dict[str, Any]:
    multiprocess = config.get("multiprocess")
    if multiprocess is None or multiprocess.get("start_method"):
        return config
    return {**config, "multiprocess": {**multiprocess, "start_method": DEFAULT_START_METHOD}}


step_executor = dg.multi_or_in_process_executor.configured(
    _forkserver_unless_told,
    config_schema=dg.multi_or_in_process_executor.config_schema.as_field(),
)
