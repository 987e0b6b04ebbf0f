"""The code location's executor: Dagster's own multi-or-in-process executor, with step workers forked
from a forkserver that has already imported the code location (ADR 0025).

Dagster's default start method is ``spawn``: every step worker is a fresh interpreter that imports
``orchestration.definitions`` again (dagster, dagster-dbt, dbt, pyomo, scipy, pyarrow: about 13 s
of CPU each). A run of ``catalog_pipeline`` has a dozen steps, so on two cores the imports cost more
than the work. ``forkserver`` is Dagster's documented option for this: one server process per run
imports the code location once, and each step worker is forked from it.

A run of a single step (a one-asset job, or a one-step selection of a bigger one) runs that step in
its run worker: a forkserver and a step process would only import the code location twice more for
one step's work. Two or more steps get step processes, as above.

Run config still chooses: ``execution: {config: {in_process: {}}}`` runs in one process, and
``multiprocess: {start_method: {spawn: {}}}`` brings spawn back (or forces a step process for a run
of one step). Only an unset start method is decided here.

Beyond one machine, the setting ``SMARTCART_STEP_EXECUTOR`` (read when the code location loads:
it is a property of the deployment, like the code location itself) picks one of Dagster's own
executors instead: ``k8s`` (a pod per step), ``celery``, ``celery_k8s`` or ``docker``. Each comes
from its Dagster integration, installed as an extra (``uv sync --extra k8s``); nothing else in the
code changes.
"""

from __future__ import annotations

import importlib
from typing import Any

import dagster as dg

from orchestration.runs import DEFINITIONS_MODULE
from warehouse.platform.config import STEP_EXECUTOR_ENV
from warehouse.platform.errors import ConfigurationError

# Dagster preloads the job's module only when the run worker knows it; a run launched from the code
# server does not, so name the code location here.
DEFAULT_START_METHOD = {"forkserver": {"preload_modules": [DEFINITIONS_MODULE]}}
# The settings in-process execution shares with multiprocess (the rest are about processes).
IN_PROCESS_KEYS = ("retries", "step_dependency_config")


def execution_for(config: dict[str, Any], steps: int) -> dict[str, Any]:
    """The executor config a run of ``steps`` steps gets: what run config says, else in the run
    worker for one step, else step processes forked from a forkserver."""
    multiprocess = config.get("multiprocess")
    if multiprocess is None or multiprocess.get("start_method"):
        return config
    if steps <= 1:  # the run's retry and step-dependency settings carry over
        return {"in_process": {key: multiprocess[key] for key in IN_PROCESS_KEYS if key in multiprocess}}
    return {**config, "multiprocess": {**multiprocess, "start_method": DEFAULT_START_METHOD}}


def _steps(job) -> int:
    """Ops in the run's job (its asset/op selection applied): one per step of the plan."""
    return len(job.get_definition().graph.node_dict)


@dg.executor(
    name=dg.multi_or_in_process_executor.name,
    config_schema=dg.multi_or_in_process_executor.config_schema.as_field(),
    requirements=dg.multi_or_in_process_executor.get_requirements,
)
def step_executor(init_context: dg.InitExecutorContext):
    """Dagster's multi-or-in-process executor, with the start method decided by ``execution_for``."""
    config = execution_for(init_context.executor_config, _steps(init_context.job))
    return dg.multi_or_in_process_executor.executor_creation_fn(
        dg.InitExecutorContext(
            job=init_context.job,
            executor_def=init_context.executor_def,
            executor_config=config,
            instance=init_context.instance,
        )
    )


# Setting value -> (module, executor, extra that installs it). "multiprocess" is the one above.
INTEGRATION_EXECUTORS = {
    "k8s": ("dagster_k8s", "k8s_job_executor", "k8s"),
    "celery": ("dagster_celery", "celery_executor", "celery"),
    "celery_k8s": ("dagster_celery_k8s", "celery_k8s_job_executor", "celery-k8s"),
    "docker": ("dagster_docker", "docker_executor", "docker"),
}
STEP_EXECUTOR_CHOICES = ("multiprocess", *INTEGRATION_EXECUTORS)


def code_location_executor(choice: str) -> dg.ExecutorDefinition:
    """The executor the deployment's setting names (Settings.step_executor)."""
    if choice == "multiprocess":
        return step_executor
    if choice not in INTEGRATION_EXECUTORS:
        raise ConfigurationError(
            f"{STEP_EXECUTOR_ENV}={choice!r} is not an executor SmartCart knows; "
            f"set one of {', '.join(STEP_EXECUTOR_CHOICES)}"
        )
    module_name, executor_name, extra = INTEGRATION_EXECUTORS[choice]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigurationError(
            f"{STEP_EXECUTOR_ENV}={choice} needs the {module_name} package, which is not installed "
            f"({error}); install it with `uv sync --extra {extra}` (or pip install 'smartcart[{extra}]')"
        ) from error
    return getattr(module, executor_name)
