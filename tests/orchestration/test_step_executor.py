"""The code location's executor (ADR 0025): step workers are forked from a forkserver that has
``orchestration.definitions`` loaded, unless run config picks another start method or in-process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.executor import step_executor


@dg.op(config_schema={"out": str})
def record_parent(context) -> None:
    parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    preloaded = "orchestration.definitions" in sys.modules
    Path(context.op_config["out"]).write_text(f"{os.getpid()}|{preloaded}|{parent}")


@dg.job(executor_def=step_executor)
def parent_probe() -> None:
    record_parent()


@pytest.mark.slow
@pytest.mark.parametrize(
    "execution, parent_is_forkserver",
    [({"multiprocess": {}}, True), ({"multiprocess": {"start_method": {"spawn": {}}}}, False)],
)
def test_step_workers_fork_from_a_forkserver_unless_run_config_says_otherwise(
    tmp_path, execution, parent_is_forkserver
):
    out = tmp_path / "step.txt"
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        result = dg.execute_job(
            dg.reconstructable(parent_probe),
            instance=instance,
            run_config={
                "execution": {"config": execution},
                "ops": {"record_parent": {"config": {"out": str(out)}}},
            },
        )
        assert result.success
    pid, preloaded, parent = out.read_text().split("|", 2)
    assert int(pid) != os.getpid()  # a step worker, not this process
    assert ("multiprocessing.forkserver" in parent) is parent_is_forkserver, parent
    if parent_is_forkserver:
        assert "orchestration.definitions" in parent and preloaded == "True", parent


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
