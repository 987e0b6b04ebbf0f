"""The instance's run queue and run monitoring, with the real daemon, code server and run workers:
two runs of one partition never overlap, and a run whose worker is killed -9 is marked failed
with no child left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.dagster_instance import prepare_dagster_env
from orchestration.dagster_launcher import process_start_time

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOCATION = Path(__file__).parent / "locations" / "fault_location.py"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def warehouse_settings(isolated_warehouse):
    """Its own instance: runs other modules left in the shared one would take queue slots."""
    return isolated_warehouse


@pytest.fixture(scope="module")
def daemon(warehouse_settings, tmp_path_factory):
    fault_dir = tmp_path_factory.mktemp("faults")
    env = {**os.environ, **prepare_dagster_env(warehouse_settings), "SMARTCART_FAULT_DIR": str(fault_dir)}
    workspace = warehouse_settings.dagster_home / "fault-workspace.yaml"
    workspace.write_text(f"load_from:\n  - python_file: {LOCATION}\n")
    log = open(warehouse_settings.home / "fault-daemon.log", "w")
    process = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    import dagster as dg

    instance = dg.DagsterInstance.get()  # DAGSTER_HOME set by prepare_dagster_env
    try:
        yield env, workspace, instance, fault_dir
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        instance.dispose()


def launch(env, workspace, partition: str) -> str:
    """Submit a run of one partition to the queue, as the UI does; returns its run id."""
    import uuid

    run_id = str(uuid.uuid4())
    subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-w", str(workspace), "-j", "slow_partition_job",
         "--run-id", run_id, "--tags", json.dumps({"dagster/partition": partition})],
        env=env, check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return run_id


def launch_together(env, workspace, *partitions: str) -> list[str]:
    """Submit one run per partition with concurrent CLI launches; returns their run ids."""
    import uuid

    run_ids = [str(uuid.uuid4()) for _ in partitions]
    launches = [
        subprocess.Popen(
            [
                str(BIN / "dagster"),
                "job",
                "launch",
                "-w",
                str(workspace),
                "-j",
                "slow_partition_job",
                "--run-id",
                run_id,
                "--tags",
                json.dumps({"dagster/partition": partition}),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for run_id, partition in zip(run_ids, partitions, strict=True)
    ]
    for process in launches:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-2000:]
    return run_ids


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def status(instance, run_id: str) -> str:
    return instance.get_run_by_id(run_id).status.value


def test_second_run_of_a_partition_queues_until_the_first_finishes(daemon):
    env, workspace, instance, fault_dir = daemon
    # Held long enough that the second launch (a CLI that loads the workspace: slow on a busy
    # machine) is submitted while the first still holds the partition.
    (fault_dir / "hold-2026-03-02").write_text("60")
    # Both submitted at once (each launch is a CLI that loads the workspace): whichever starts first
    # holds the partition, and the other must wait in the queue.
    first_id, second_id = launch_together(env, workspace, "2026-03-02", "2026-03-02")
    started = wait_for(
        lambda: [r for r in (first_id, second_id) if (fault_dir / f"{r}.started").exists()],
        240,
        "a run to start",
    )
    assert len(started) == 1, "both runs of one partition started"
    first, second = started[0], ({first_id, second_id} - set(started)).pop()
    # For as long as the first holds the partition, the daemon (which dequeues every few seconds)
    # must leave the second in the queue.
    seen, deadline = set(), time.monotonic() + 300
    while not (fault_dir / f"{first}.finished").exists() and time.monotonic() < deadline:
        seen.add(status(instance, second))
        time.sleep(1)
    assert seen == {"QUEUED"}, (
        f"the second run was {seen or 'never looked at'} while the first held the partition"
    )
    wait_for(lambda: status(instance, second) == "SUCCESS", 300, "the second run to succeed")
    assert status(instance, first) == "SUCCESS"
    first_done = float((fault_dir / f"{first}.finished").read_text())
    second_started = float((fault_dir / f"{second}.started").read_text())
    assert second_started >= first_done  # never both inside the partition at once


def test_killed_run_worker_is_marked_failed_and_leaves_no_child(daemon):
    env, workspace, instance, fault_dir = daemon
    (fault_dir / "hold-2026-03-05").write_text("600")
    run_id = launch(env, workspace, "2026-03-05")
    child = int(wait_for(lambda: (fault_dir / f"{run_id}.child").exists() and
                         (fault_dir / f"{run_id}.child").read_text(), 240, "the run's child"))  # fmt: skip
    from dagster import DagsterEventType

    def worker_pid():
        for event in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
            if event.message.startswith("Started process for run (pid:"):
                return int(event.message.split("pid:")[1].split(")")[0])

    worker = wait_for(worker_pid, 60, "the run worker's pid")
    time.sleep(12)  # at least one monitoring poll while the worker is alive records its children
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: status(instance, run_id) == "FAILURE", 120, "the run to be marked failed")
    record = Path(env["DAGSTER_HOME"]) / "run_workers" / f"{run_id}.json"
    recorded = record.read_text() if record.exists() else "(no record)"
    try:
        wait_for(lambda: process_start_time(child) is None, 30, "the run's child to be stopped")
    except AssertionError as exc:
        log = (Path(env["SMARTCART_HOME"]) / "fault-daemon.log").read_text()[-3000:]
        raise AssertionError(f"{exc}; child {child}, worker {worker}, recorded {recorded}\n{log}") from None
    messages = " ".join(e.message or "" for e in instance.all_logs(run_id))
    # the failure says the worker died: the code server ("was terminated by signal 9") or our
    # launcher's health check ("is gone"), whichever sees it first
    assert "terminated by signal 9" in messages or "is gone" in messages, messages[-2000:]
