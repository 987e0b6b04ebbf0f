"""orchestration.runs: jobs go to the instance as the UI sends them, and nothing outlives the services."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces): state is [0], start time [19]."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _identity(pid: int) -> tuple[int, str]:
    """A pid with its start time: pids wrap within minutes on a busy machine (pid_max 32768), so a
    pid alone may name another, newer process by the time it is checked."""
    stat = _stat(pid)
    assert stat is not None, f"process {pid} is not running"
    return pid, stat[19]


def _alive(identity: tuple[int, str]) -> bool:
    pid, started = identity
    stat = _stat(pid)
    # a zombie is gone for our purposes (it runs nothing), a reused pid is another process
    return stat is not None and stat[19] == started and stat[0] != "Z"


def test_a_submitted_run_has_a_repository_origin_and_runs_on_the_jobs_executor(warehouse_settings, tmp_path):
    from dagster._core.storage.dagster_run import RunsFilter

    from orchestration.definitions import defs
    from orchestration.runs import DagsterServices

    log = tmp_path / "services.log"
    with DagsterServices(warehouse_settings, log) as services:
        pids = [_identity(p.pid) for p in services.processes]
        outcome = services.run_job("optimizer_cache_purge")
        run = services.instance.get_run_by_id(outcome.run_id)
        in_job_tab = [
            r.run_id for r in services.instance.get_runs(RunsFilter(job_name="optimizer_cache_purge"))
        ]
    assert outcome.success, outcome.statuses
    assert run.remote_job_origin is not None and run.job_code_origin is not None
    assert run.remote_job_origin.location_name == "smartcart"
    assert outcome.run_id in in_job_tab  # what the job's Runs tab lists
    executor = defs.resolve_job_def("optimizer_cache_purge").executor_def.name
    engine = " ".join(e.message or "" for e in outcome.all_events if e.event_type_value == "ENGINE_EVENT")
    # The default executor runs a run of one step in its run worker (orchestration/defs/executor.py).
    if executor == "multi_or_in_process_executor":
        assert "Executing steps in process" in engine, engine[:500]
    else:
        assert f"Executing steps using {executor.replace('_', ' ')}" in engine.replace("_", " "), engine[:500]
    assert not [pid for pid in pids if _alive(pid)], "the code server / daemon outlived the with block"


def test_bad_run_config_is_refused_with_dagsters_reason(warehouse_settings, tmp_path):
    from orchestration.runs import DagsterServices, RunSubmissionError

    with DagsterServices(warehouse_settings, tmp_path / "services.log", daemon=False) as services:
        with pytest.raises(RunSubmissionError, match="RunConfigValidationInvalid"):
            services.submit_job("optimizer_cache_purge", {"ops": {"no_such_op": {"config": {}}}})


def test_sigterm_leaves_no_orphan_processes(warehouse_settings, tmp_path, live_group_members):
    """A killed `smartcart demo` (SIGTERM) stops its code server, daemon and their children."""
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from warehouse.platform.config import Settings
        from orchestration.runs import DagsterServices
        settings = Settings.from_env({{"SMARTCART_HOME": {str(warehouse_settings.home)!r}}})
        with DagsterServices(settings, Path({str(tmp_path / "s.log")!r})) as services:
            print(json.dumps([p.pid for p in services.processes]), flush=True)
            # Short sleeps, as smartcart's own waits poll: the kernel may hand SIGTERM to any thread,
            # and Python runs the handler in the main thread only at its next bytecode, so one long
            # C-level sleep there could hold the handler back until it returned.
            for _ in range(1200):
                time.sleep(0.5)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        pids = [_identity(pid) for pid in json.loads(child.stdout.readline())]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        # the daemon's own children (its code server pings, run workers) are in its group
        groups = {os.getpgid(pid) for pid, _ in pids}
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.5)
    assert not [pid for pid in pids if _alive(pid)]
    # Killed members of the groups are zombies until PID 1 reaps them (this machine's init is slow to):
    # a zombie runs nothing and holds nothing, so only live members count as left behind.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (left := live_group_members(groups)):
        time.sleep(0.5)
    assert not left, f"processes left in the services' groups: {left}"


def test_a_deferred_daemon_starts_when_asked_and_waiting_before_that_says_why(warehouse_settings, tmp_path):
    """defer_daemon: the code server takes submissions at once (the demo submits its backfill there,
    so that the daemon's first backfill iteration launches it); the daemon starts on start_daemon()."""
    from orchestration.runs import DagsterServices, RunSubmissionError

    with DagsterServices(warehouse_settings, tmp_path / "services.log", defer_daemon=True) as services:
        assert len(services.processes) == 1  # the code server only
        run_id = services.submit_job("optimizer_cache_purge")
        with pytest.raises(RunSubmissionError, match="deferred"):
            services.wait_for_runs([run_id], timeout=5)
        services.start_daemon()
        services.start_daemon()  # once only
        assert len(services.processes) == 2
        outcome = services.wait_for_runs([run_id], timeout=300)
    assert outcome.success, outcome.statuses
