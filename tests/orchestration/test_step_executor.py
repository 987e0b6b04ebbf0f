"""The code location's executor (ADR 0025): step workers are forked from a forkserver that has
``orchestration.definitions`` loaded, unless run config picks another start method or in-process;
beyond one machine, SMARTCART_STEP_EXECUTOR picks one of Dagster's own executors (a real Celery
worker runs a step here)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.defs.executor import (
    INTEGRATION_EXECUTORS,
    STEP_EXECUTOR_CHOICES,
    code_location_executor,
    step_executor,
)
from warehouse.platform.config import REPO_ROOT
from warehouse.platform.errors import ConfigurationError


def _record_parent(context) -> None:
    parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    preloaded = "orchestration.definitions" in sys.modules
    Path(context.op_config["out"]).write_text(f"{os.getpid()}|{preloaded}|{parent}")


@dg.op(config_schema={"out": str})
def record_parent(context) -> None:
    _record_parent(context)


@dg.job(executor_def=step_executor)
def parent_probe() -> None:
    record_parent()


@dg.op(config_schema={"out": str})
def record_parent_again(context) -> None:
    _record_parent(context)


@dg.job(executor_def=step_executor)
def two_step_probe() -> None:
    record_parent()
    record_parent_again()


def _run_probe(tmp_path: Path, job, run_config: dict | None = None) -> list[list[str]]:
    """Run ``job`` (its ops record where they ran) on a local instance: [pid, preloaded, parent] per op."""
    outs = {name: tmp_path / f"{name}.txt" for name in job.graph.node_dict}
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        result = dg.execute_job(
            dg.reconstructable(job),
            instance=instance,
            run_config={
                **(run_config or {}),
                "ops": {name: {"config": {"out": str(out)}} for name, out in outs.items()},
            },
        )
        assert result.success
    return [out.read_text().split("|", 2) for out in outs.values()]


@pytest.mark.slow
@pytest.mark.parametrize(
    "execution, parent_is_forkserver",
    [({"multiprocess": {}}, True), ({"multiprocess": {"start_method": {"spawn": {}}}}, False)],
)
def test_step_workers_fork_from_a_forkserver_unless_run_config_says_otherwise(
    tmp_path, execution, parent_is_forkserver
):
    recorded = _run_probe(tmp_path, two_step_probe, {"execution": {"config": execution}})
    for pid, preloaded, parent in recorded:
        assert int(pid) != os.getpid()  # a step worker, not this process
        assert ("multiprocessing.forkserver" in parent) is parent_is_forkserver, parent
        if parent_is_forkserver:
            assert "orchestration.definitions" in parent and preloaded == "True", parent


@pytest.mark.slow
@pytest.mark.parametrize("job, in_run_worker", [(parent_probe, True), (two_step_probe, False)])
def test_a_run_of_one_step_runs_it_in_the_run_worker_and_more_steps_fork(tmp_path, job, in_run_worker):
    """Unset config: one step needs no step process (it would import the code location again);
    two steps get forked step workers."""
    for pid, _, parent in _run_probe(tmp_path, job):
        assert (int(pid) == os.getpid()) is in_run_worker, parent
        assert ("multiprocessing.forkserver" in parent) is not in_run_worker, parent


def test_in_process_stays_in_process(tmp_path):
    out = tmp_path / "step.txt"
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.execute_job(
            dg.reconstructable(parent_probe),
            instance=instance,
            run_config={
                "execution": {"config": {"in_process": {}}},
                "ops": {"record_parent": {"config": {"out": str(out)}}},
            },
        )
        assert result.success
    assert int(out.read_text().split("|", 1)[0]) == os.getpid()


# --- beyond one machine: SMARTCART_STEP_EXECUTOR ------------------------------------------------


@dg.job(executor_def=code_location_executor("celery"))
def celery_parent_probe() -> None:
    record_parent()


def test_an_unknown_executor_setting_names_the_choices():
    with pytest.raises(ConfigurationError) as error:
        code_location_executor("kubernetes-please")
    assert all(choice in str(error.value) for choice in STEP_EXECUTOR_CHOICES)


@pytest.mark.parametrize("choice", sorted(INTEGRATION_EXECUTORS))
def test_each_integration_executor_is_dagster_s_own_or_says_which_extra_to_install(choice):
    module_name, executor_name, extra = INTEGRATION_EXECUTORS[choice]
    if importlib.util.find_spec(module_name) is None:
        with pytest.raises(ConfigurationError, match=rf"uv sync --extra {extra}\b"):
            code_location_executor(choice)
    else:
        executor = code_location_executor(choice)
        assert executor is getattr(importlib.import_module(module_name), executor_name)


@pytest.mark.slow
def test_the_setting_alone_moves_the_code_location_s_jobs_onto_celery():
    """Nothing but SMARTCART_STEP_EXECUTOR changes: every job of the code location gets the executor."""
    probe = (
        "import json\n"
        "from orchestration.definitions import defs\n"
        "repo = defs.get_repository_def()\n"
        "print(json.dumps({job.name: job.executor_def.name for job in repo.get_all_jobs()}))\n"
    )
    executors = {}
    for setting in ("", "celery"):
        env = {**os.environ, "SMARTCART_STEP_EXECUTOR": setting}
        result = subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        executors[setting] = json.loads(result.stdout.strip().splitlines()[-1])
    assert "catalog_pipeline" in executors[""]
    assert set(executors[""].values()) == {"multi_or_in_process_executor"}
    assert executors["celery"]["catalog_pipeline"] == "celery"
    assert executors["celery"].keys() == executors[""].keys()


@pytest.mark.slow
@pytest.mark.integration
def test_a_celery_worker_runs_the_step(tmp_path):
    """A real Celery worker (dagster-celery's own CLI) over a filesystem broker executes the step."""
    (tmp_path / "broker").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "control").mkdir()
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    executor_config = {
        "broker": "filesystem://",
        "backend": f"file://{tmp_path / 'results'}",
        "config_source": {
            "broker_transport_options": {
                "data_folder_in": str(tmp_path / "broker"),
                "data_folder_out": str(tmp_path / "broker"),
                "control_folder": str(tmp_path / "control"),  # kombu's default is ./control
            }
        },
    }
    worker_config = tmp_path / "celery.yaml"
    worker_config.write_text(yaml.safe_dump({"execution": {"config": executor_config}}))
    bin_dir = Path(sys.executable).parent
    worker = subprocess.Popen(
        [
            str(bin_dir / "dagster-celery"),
            "worker",
            "start",
            "-A",
            "dagster_celery.app",
            "-y",
            str(worker_config),
        ],
        env={
            **os.environ,
            "DAGSTER_HOME": str(dagster_home),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # it starts `celery` by name
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        },
        stdout=open(tmp_path / "worker.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out = tmp_path / "step.txt"
    try:
        with dg.DagsterInstance.local_temp(str(dagster_home)) as instance:
            result = dg.execute_job(
                dg.reconstructable(celery_parent_probe),
                instance=instance,
                run_config={
                    "execution": {"config": executor_config},
                    "ops": {"record_parent": {"config": {"out": str(out)}}},
                },
            )
            assert result.success, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        deadline = time.monotonic() + 10  # the worker's pool children leave with it
        while time.monotonic() < deadline and _group_alive(worker.pid):
            time.sleep(0.2)
        if _group_alive(worker.pid):
            os.killpg(worker.pid, signal.SIGKILL)
    pid, parent = out.read_text().split("|", 1)
    assert int(pid) != os.getpid()
    assert "celery" in parent and "worker" in parent, parent  # a Celery worker's pool process ran it


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
