"""The local run launcher: Dagster's DefaultRunLauncher plus a run-worker health check.

Dagster's run monitoring marks a run failed only if the launcher can say its worker died; the
default launcher cannot, so a run whose worker was killed stayed STARTED forever and its
children (multiprocess step workers, Scrapy crawls, dbt) kept running. This launcher:

- finds the run worker's pid in the run's own "Started process for run (pid: N)" engine event;
- on every monitoring poll, records the worker's descendants (pid + kernel start time, from /proc)
  under DAGSTER_HOME/run_workers/<run_id>.json;
- when the worker is gone, answers FAILED (the monitoring daemon then marks the run failed) and
  stops every recorded descendant that is still the same process (SIGTERM, then SIGKILL).
  The code server may mark the run failed first ("run execution process exited unexpectedly");
  then ``stop_children_of_failed_runs`` (a run-failure sensor) stops the leftovers.

Linux and one host only, like the default launcher itself; production uses the Kubernetes or
Celery launchers, whose health checks come with them (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from dagster import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

PROC = Path("/proc")


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (identifies it across pid reuse), or None
    if there is no such live process (a zombie counts as gone)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces: split after it
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def descendants(pid: int) -> dict[int, int]:
    """Every live descendant of ``pid`` -> its start time."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: dict[int, int] = {}
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        started = process_start_time(child)
        if started is not None and child not in found:
            found[child] = started
            stack.extend(children.get(child, []))
    return found


def stop_processes(processes: dict[int, int], grace_seconds: float = 5.0) -> list[int]:
    """SIGTERM each process that is still the one recorded (same start time), SIGKILL what is left
    after ``grace_seconds``; returns the pids signalled."""
    alive = {pid for pid, started in processes.items() if process_start_time(pid) == started}
    for pid in alive:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(process_start_time(p) == processes[p] for p in alive):
        time.sleep(0.2)
    for pid in alive:
        if process_start_time(pid) == processes[pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return sorted(alive)


def worker_record_path(dagster_home: str | Path, run_id: str) -> Path:
    return Path(dagster_home) / "run_workers" / f"{run_id}.json"


def stop_leftover_children(dagster_home: str | Path, run_id: str) -> list[int]:
    """Stop what a finished run's dead worker left running (recorded by the health check)."""
    record = worker_record_path(dagster_home, run_id)
    if not record.exists():
        return []
    known = json.loads(record.read_text())
    stopped = stop_processes({int(p): s for p, s in known.get("descendants", {}).items()})
    record.unlink(missing_ok=True)
    return stopped


class SmartcartRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher that tells run monitoring when a run's worker process has died."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def _record_path(self, run_id: str) -> Path:
        return worker_record_path(self._instance.root_directory, run_id)

    def _worker_pid(self, run_id: str) -> int | None:
        for event in self._instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
            if event.message and event.message.startswith("Started process for run (pid:"):
                return int(event.message.split("pid:")[1].split(")")[0])
        return None

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        pid = self._worker_pid(run.run_id)
        if pid is None:  # not started yet: the start timeout of run monitoring covers this case
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no run worker pid recorded yet")
        record = self._record_path(run.run_id)
        known = json.loads(record.read_text()) if record.exists() else {}
        worker_started = known.get("worker_started")
        now_started = process_start_time(pid)
        if now_started is not None and worker_started in (None, now_started):
            tree = {str(p): s for p, s in descendants(pid).items()}
            record.parent.mkdir(parents=True, exist_ok=True)
            merged = {**known.get("descendants", {}), **tree}
            record.write_text(json.dumps({"worker_started": now_started, "descendants": merged}))
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        stopped = stop_leftover_children(self._instance.root_directory, run.run_id)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"run worker process {pid} is gone (killed or crashed); stopped its leftover child "
            f"processes {stopped or 'none'}",
        )
