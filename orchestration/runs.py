"""Submit jobs and backfills to the Dagster instance, as the UI does, and wait for them.

A run submitted here is the same as one launched from the UI: it is created from the code
location's remote job (so it has a repository origin and shows in the job's Runs tab and the
timeline), goes through the instance's run coordinator, and runs in its own run worker on the
job's configured executor. Nothing here calls ``execute_in_process``.

``DagsterServices`` starts what that needs and stops it again: one gRPC code server for
``orchestration.definitions`` (the run launcher starts run workers from it) and, when asked, the
daemon (it dequeues queued runs, drives backfills and ticks sensors). Both run in their own
process group, their output goes to a log file, and leaving the ``with`` block stops both groups
(run workers included), so nothing is left running.

Submission goes through Dagster's own GraphQL schema, executed in-process against the workspace:
the very mutations (``launchRun``, ``launchPartitionBackfill``) the UI sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from orchestration.dagster_instance import prepare_dagster_env
from warehouse.platform.config import Settings

CODE_LOCATION = "smartcart"
DEFINITIONS_MODULE = "orchestration.definitions"
REPOSITORY = "__repository__"  # the name Dagster gives the repository of a Definitions object
REPO_ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 1.0

_LAUNCH_RUN = """
mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

_LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on Error { message }
  }
}
"""


class RunSubmissionError(RuntimeError):
    """Dagster refused to create or launch a run (bad config, unknown job, code location down)."""


@dataclass
class RunOutcome:
    """A finished run (or all runs of a backfill), read back from the instance's event log.

    ``all_events`` and ``get_asset_materialization_events()`` mirror ExecuteInProcessResult, so the
    summaries work on either.
    """

    run_ids: list[str]
    statuses: dict[str, str]
    all_events: list[Any] = field(repr=False)

    @property
    def run_id(self) -> str:
        return self.run_ids[-1] if self.run_ids else ""

    @property
    def success(self) -> bool:
        return bool(self.run_ids) and all(status == "SUCCESS" for status in self.statuses.values())

    def get_asset_materialization_events(self) -> list[Any]:
        return [e for e in self.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process_group(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the process group (the process and what it spawned), then SIGKILL what is left."""
    stop_process_groups([process], timeout)


def stop_process_groups(
    processes: list[subprocess.Popen], timeout: float = 20.0, reap_timeout: float = 10.0
) -> None:
    """Stop every process with its group: SIGTERM all groups at once, give them ``timeout`` seconds
    together, then SIGKILL every group whatever happened, and reap the processes.

    Bounded: it returns within ``timeout + reap_timeout`` seconds even if a process never dies
    (a reaped-later zombie holds nothing). Every group gets its SIGTERM before any wait, so one
    slow service cannot keep the other running (and orphaned, should this process be killed).
    """
    for process in processes:
        if not reaped(process):
            with _suppress_lookup():
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        reaped(process, deadline)
    # Run workers outlive a stopped leader if they ignore SIGTERM: kill every group either way.
    for process in processes:
        with _suppress_lookup():
            os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + reap_timeout
    for process in processes:
        reaped(process, deadline)


def reaped(process: subprocess.Popen, deadline: float | None = None) -> bool:
    """Whether ``process`` has exited (reaping it), waiting for it until ``deadline`` (monotonic).

    Calls os.waitpid itself instead of Popen.poll/wait: a KeyboardInterrupt raised by the SIGTERM
    handler while an earlier poll() held Popen's internal wait lock (a window between its acquire
    and its try) leaves that lock held for good, and every Popen.wait() after it blocks forever. The
    SIGTERMed parent then hung with one service stopped and the other running (measured: 18% of
    interrupts landing in poll() left the lock held).
    """
    while process.returncode is None:
        try:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere (Popen in another thread): gone, status unknown
            if process.returncode is None:
                process.returncode = 0  # what Popen itself records then
            break
        if pid == process.pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            break
        if deadline is None or time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _bounded(close: Callable[[], object], timeout: float = 15.0) -> None:
    """Run ``close`` in a daemon thread and give up on it after ``timeout`` seconds."""
    worker = threading.Thread(target=close, name="smartcart-services-close", daemon=True)
    worker.start()
    worker.join(timeout)


def raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def _signals_held():
    """SIGTERM and SIGINT are recorded (in the list it yields), not acted on, inside the block
    (main thread only: elsewhere Python cannot set handlers)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    held = (signal.SIGTERM, signal.SIGINT)
    previous = {
        signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in held
    }
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _suppress_lookup:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, value, traceback) -> bool:
        return kind is ProcessLookupError or kind is PermissionError


class DagsterServices:
    """A code server (and optionally the daemon) for the SmartCart instance, for one ``with`` block.

    ``env`` adds variables the runs need (e.g. SMARTCART_MARKET_URL); run workers inherit the code
    server's environment. ``log`` receives the services' output (run logs, dbt, GX).

    ``defer_daemon=True`` starts the code server only; ``start_daemon()`` starts the daemon later.
    A backfill submitted in between is taken up by the daemon's first backfill iteration, which
    runs as it starts, instead of waiting for its next one (they are 30 s apart, fixed in Dagster).
    """

    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        daemon: bool = True,
        env: dict[str, str] | None = None,
        startup_timeout: float = 600.0,
        defer_daemon: bool = False,
    ):
        self.settings = settings
        self.log_path = log_path
        self.daemon = daemon
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.defer_daemon = defer_daemon
        self.processes: list[subprocess.Popen] = []
        self._env: dict[str, str] = {}
        self._workspace_file: Path | None = None
        self._daemon_started = False
        self._log: IO[str] | None = None
        self._instance = None
        self._workspace = None
        self._previous_sigterm = None
        self._submitted_runs: list[str] = []
        self._backfills: list[str] = []

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> DagsterServices:
        # SIGTERM would end this process without unwinding, leaving the services orphaned: make it
        # unwind like Ctrl-C does (only the main thread may set handlers).
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
        try:
            self._start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _start(self) -> None:
        import dagster as dg
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import WorkspaceFileTarget

        env = {**os.environ, **prepare_dagster_env(self.settings), **self.extra_env}
        # Progress bars (GX's "Calculating Metrics") would be redrawn into the log: switch tqdm off.
        env["TQDM_DISABLE"] = "1"
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a", buffering=1)
        port = _free_port()
        workspace_file = self.settings.dagster_home / "workspace.yaml"
        workspace_file.write_text(
            "# Written by smartcart (orchestration/runs.py): the code server it started.\n"
            f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {port}\n"
            f"      location_name: {CODE_LOCATION}\n"
        )
        dagster = str(Path(sys.executable).with_name("dagster"))
        self._spawn(
            [dagster, "api", "grpc", "-m", DEFINITIONS_MODULE, "-d", str(REPO_ROOT),
             "-h", "127.0.0.1", "-p", str(port), "--location-name", CODE_LOCATION],
            env,
        )  # fmt: skip
        self._wait_for_code_server(port)
        self._env, self._workspace_file = env, workspace_file
        if self.daemon and not self.defer_daemon:
            self.start_daemon()
        os.environ.update(env)  # this process reads the same instance
        self._instance = dg.DagsterInstance.get()
        self._workspace = WorkspaceProcessContext(self._instance, WorkspaceFileTarget([str(workspace_file)]))
        self._workspace.__enter__()
        error = self._workspace.create_request_context().get_code_location_error(CODE_LOCATION)
        if error:
            raise RunSubmissionError(f"the code location did not load: {error.message}; see {self.log_path}")

    def start_daemon(self) -> None:
        """Start the daemon (once) on the code server's workspace."""
        if not self.daemon:
            raise RunSubmissionError(
                "these services run without the daemon: use DagsterServices(daemon=True)"
            )
        if self._daemon_started:
            return
        daemon = str(Path(sys.executable).with_name("dagster-daemon"))
        self._spawn([daemon, "run", "-w", str(self._workspace_file)], self._env)
        self._daemon_started = True

    def _spawn(self, cmd: list[str], env: dict[str, str]) -> None:
        self.processes.append(
            subprocess.Popen(
                cmd,
                env=env,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopping it stops its run workers too
            )
        )

    def _wait_for_code_server(self, port: int) -> None:
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if reaped(self.processes[0]):
                raise RunSubmissionError(
                    f"the Dagster code server exited with {self.processes[0].returncode}; see {self.log_path}"
                )
            try:
                client.ping("")
                return
            except Exception:  # not listening yet
                time.sleep(0.5)
        raise RunSubmissionError(f"the Dagster code server did not start in {self.startup_timeout:.0f}s")

    def __exit__(self, *exc_info) -> None:
        # A second Ctrl-C or SIGTERM during the shutdown would raise in the middle of it and leave
        # what was not stopped yet running: hold both off until it is done (it is bounded).
        with _signals_held() as held:
            self._shut_down(exc_info[0])
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None
        if held and exc_info[0] is None:  # asked to stop while stopping: stop the caller too
            raise KeyboardInterrupt(f"signal {held[0]}, received while the services stopped")

    def _shut_down(self, error: type[BaseException] | None) -> None:
        # Stop the processes first, all groups at once and bounded, so that nothing below can keep
        # them alive; cancelling the block's runs, closing the workspace (gRPC channels, watch
        # threads) and the instance is bookkeeping, each bounded so it cannot hang the exit.
        stop_process_groups(self.processes)
        self.processes.clear()
        if error is not None and self._instance is not None:
            reason = f"stopped with the services that launched it ({error.__name__})"

            def cancel() -> None:
                try:
                    self.cancel_unfinished(reason)
                except Exception:  # noqa: BLE001 - the processes are stopped; this is bookkeeping
                    pass

            _bounded(cancel, timeout=30.0)
        if self._workspace is not None:
            _bounded(lambda workspace=self._workspace: workspace.__exit__(None, None, None))
            self._workspace = None
        if self._instance is not None:
            _bounded(self._instance.dispose)
            self._instance = None
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def instance(self):
        assert self._instance is not None, "use DagsterServices in a with block"
        return self._instance

    # --- submission ------------------------------------------------------------------------
    def _graphql(self, query: str, variables: dict) -> dict:
        from dagster_graphql.schema import create_schema

        context = self._workspace.create_request_context()
        result = asyncio.run(
            create_schema().execute_async(query, context_value=context, variable_values=variables)
        )
        if result.errors:
            raise RunSubmissionError(str(result.errors[0]))
        return result.data

    def submit_job(
        self,
        job_name: str,
        run_config: dict | None = None,
        tags: dict[str, str] | None = None,
        partition_key: str | None = None,
        asset_selection: list[list[str]] | None = None,
    ) -> str:
        """Launch one run of ``job_name`` (optionally a subset of its assets) as the launchpad does;
        returns its run id."""
        tags = dict(tags or {})
        if partition_key:
            tags["dagster/partition"] = partition_key
        params = {
            "selector": {
                "repositoryLocationName": CODE_LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": job_name,
                **({"assetSelection": [{"path": key} for key in asset_selection]} if asset_selection else {}),
            },
            "runConfigData": run_config or {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        answer = self._graphql(_LAUNCH_RUN, {"params": params})["launchRun"]
        if answer["__typename"] != "LaunchRunSuccess":
            details = answer.get("message") or "; ".join(e["message"] for e in answer.get("errors", []))
            raise RunSubmissionError(
                f"Dagster refused to launch {job_name}: {answer['__typename']}: {details}"
            )
        self._submitted_runs.append(answer["run"]["runId"])
        return answer["run"]["runId"]

    def submit_backfill(
        self,
        job_name: str,
        partition_keys: list[str],
        tags: dict[str, str] | None = None,
        title: str | None = None,
        run_config: dict | None = None,
        asset_selection: list[list[str]] | None = None,
        all_partitions: bool = False,
    ) -> str:
        """Launch a backfill of ``job_name`` over ``partition_keys`` (or every partition) as the
        job's launchpad does.

        The daemon turns it into runs of the job following its backfill policy (single-run:
        one run over the whole window), so the runs show in the job's Runs tab; it needs
        ``daemon=True``.
        """
        if not self.daemon:
            raise RunSubmissionError("a backfill needs the daemon: use DagsterServices(daemon=True)")
        params = {
            "selector": {
                "partitionSetName": f"{job_name}_partition_set",
                "repositorySelector": {"repositoryLocationName": CODE_LOCATION, "repositoryName": REPOSITORY},
            },
            **({"allPartitions": True} if all_partitions else {"partitionNames": list(partition_keys)}),
            "fromFailure": False,
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
            "title": title,
            "runConfigData": run_config or {},
            **({"assetSelection": [{"path": key} for key in asset_selection]} if asset_selection else {}),
        }
        answer = self._graphql(_LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if answer["__typename"] != "LaunchBackfillSuccess":
            raise RunSubmissionError(
                f"Dagster refused the backfill of {job_name}: {answer['__typename']}: {answer.get('message')}"
            )
        self._backfills.append(answer["backfillId"])
        return answer["backfillId"]

    # --- waiting ---------------------------------------------------------------------------
    def _check_services(self) -> None:
        if self.daemon and not self._daemon_started:
            raise RunSubmissionError(
                "nothing will run: the daemon was deferred and not started (start_daemon())"
            )
        for process in self.processes:
            if reaped(process):
                raise RunSubmissionError(
                    f"a Dagster service exited ({' '.join(process.args[:3])}, code {process.returncode}); "
                    f"see {self.log_path}"
                )

    def _report_steps(
        self, run_ids: Iterable[str], seen: set, on_step: Callable[[str, Any], None] | None
    ) -> None:
        """Call ``on_step(run_id, event)`` once for each step that finished (success or failure)."""
        if on_step is None:
            return
        from dagster._core.events import DagsterEventType

        for run_id in run_ids:
            for entry in self.instance.all_logs(
                run_id, of_type={DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
            ):
                key = (run_id, entry.step_key, entry.dagster_event.event_type_value)
                if key not in seen:
                    seen.add(key)
                    on_step(run_id, entry.dagster_event)

    def wait_for_runs(
        self,
        run_ids: list[str],
        timeout: float | None = None,
        on_finish: Callable[[Any], None] | None = None,
        on_step: Callable[[str, Any], None] | None = None,
    ) -> RunOutcome:
        """Block until every run has finished; ``on_finish(run)`` is called once per finished run,
        ``on_step(run_id, event)`` once per finished step."""
        pending, deadline = list(run_ids), (time.monotonic() + timeout if timeout else None)
        steps: set = set()
        while pending:
            self._report_steps(pending, steps, on_step)
            for run_id in list(pending):
                run = self.instance.get_run_by_id(run_id)
                if run is not None and run.is_finished:
                    pending.remove(run_id)
                    if on_finish:
                        on_finish(run)
            if pending:
                self._check_services()
                if deadline and time.monotonic() > deadline:
                    raise TimeoutError(f"runs still going after {timeout:.0f}s: {pending}")
                time.sleep(POLL_SECONDS)
        return self.outcome(run_ids)

    def wait_for_backfill(
        self,
        backfill_id: str,
        timeout: float | None = None,
        on_finish: Callable[[Any], None] | None = None,
        on_step: Callable[[str, Any], None] | None = None,
    ) -> RunOutcome:
        """Block until the daemon has submitted every run of the backfill and all have finished."""
        deadline, seen = (time.monotonic() + timeout if timeout else None), set()
        return self._wait_for_backfill(backfill_id, deadline, timeout, seen, on_finish, on_step)

    def cancel_unfinished(self, reason: str) -> None:
        """Cancel this block's backfills and mark its unfinished runs canceled, with ``reason``.

        Their run workers are in the code server's process group and stop with it; without this
        the runs would stay QUEUED or STARTED in the instance forever.
        """
        from dagster._core.storage.dagster_run import DagsterRunStatus

        for backfill_id in self._backfills:
            self.cancel_backfill(backfill_id)
        unfinished = {DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
                      DagsterRunStatus.STARTED}  # fmt: skip
        for run_id in self._submitted_runs:
            run = self.instance.get_run_by_id(run_id)
            if run is not None and run.status in unfinished:
                self.instance.report_run_canceled(run, message=reason)

    def cancel_backfill(self, backfill_id: str) -> None:
        """Cancel the backfill and its runs that have not started (as the UI's "Cancel" does)."""
        from dagster._core.execution.backfill import BulkActionStatus
        from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

        backfill = self.instance.get_backfill(backfill_id)
        if backfill is not None and backfill.status == BulkActionStatus.REQUESTED:
            self.instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELED))
        waiting = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED]
        for run in self.instance.get_runs(
            RunsFilter(tags={"dagster/backfill": backfill_id}, statuses=waiting)
        ):
            self.instance.report_run_canceled(run, message="the demo that submitted it was stopped")

    def _wait_for_backfill(self, backfill_id, deadline, timeout, seen, on_finish, on_step) -> RunOutcome:
        from dagster._core.storage.dagster_run import RunsFilter

        steps: set = set()
        while True:
            backfill = self.instance.get_backfill(backfill_id)
            runs = self.instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
            self._report_steps([r.run_id for r in runs if r.run_id not in seen], steps, on_step)
            for run in runs:
                if run.is_finished and run.run_id not in seen:
                    seen.add(run.run_id)
                    if on_finish:
                        on_finish(run)
            if all_runs_submitted(backfill) and all(r.is_finished for r in runs):
                ordered = sorted(
                    runs, key=lambda r: self.instance.get_run_record_by_id(r.run_id).create_timestamp
                )
                return self.outcome([r.run_id for r in ordered])
            self._check_services()
            if deadline and time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} still going after {timeout:.0f}s")
            time.sleep(POLL_SECONDS)

    def outcome(self, run_ids: list[str]) -> RunOutcome:
        events, statuses = [], {}
        for run_id in run_ids:
            statuses[run_id] = self.instance.get_run_by_id(run_id).status.value
            events += [e.dagster_event for e in self.instance.all_logs(run_id) if e.is_dagster_event]
        return RunOutcome(run_ids=list(run_ids), statuses=statuses, all_events=events)

    def wait_for_tagged_run(self, key: str, value: str, timeout: float = 300.0) -> Any | None:
        """Wait for a run tagged ``key=value`` (e.g. one a sensor launched) to finish; None if none came."""
        from dagster._core.storage.dagster_run import RunsFilter

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.instance.get_runs(RunsFilter(tags={key: value}), limit=1)
            if runs and runs[0].is_finished:
                return runs[0]
            self._check_services()
            time.sleep(POLL_SECONDS)
        return None

    def wait_for_sensor_run(self, job_name: str, since: float, timeout: float = 300.0) -> Any | None:
        """Wait for a run of ``job_name`` created after ``since`` (a timestamp; e.g. a sensor's
        reaction to a dropped file) to finish; None if none came within ``timeout``."""
        from dagster._core.storage.dagster_run import RunsFilter

        deadline = time.monotonic() + timeout
        created_after = dt.datetime.fromtimestamp(since, dt.UTC)
        while time.monotonic() < deadline:
            runs = self.instance.get_runs(RunsFilter(job_name=job_name, created_after=created_after), limit=1)
            if runs and runs[0].is_finished:
                return runs[0]
            self._check_services()
            time.sleep(POLL_SECONDS)
        return None

    def run_job(self, job_name: str, run_config: dict | None = None, **kwargs: Any) -> RunOutcome:
        """Submit one run and wait for it."""
        return self.wait_for_runs([self.submit_job(job_name, run_config, **kwargs)])


def all_runs_submitted(backfill) -> bool:
    """True once the daemon has created every run of a job backfill.

    The daemon marks a backfill completed only on its next tick after the last run ends (every
    30 s, not configurable); the checkpoint of its last submitted partition says sooner that no
    run is still to come, so a caller waiting on the runs need not wait for that tick too."""
    from dagster._core.execution.backfill import BulkActionStatus

    if backfill.status != BulkActionStatus.REQUESTED:
        return True
    names = backfill.partition_names or []
    return bool(names) and backfill.last_submitted_partition_name == names[-1]


def quiet_console() -> dict:
    """Run config that keeps a run's console at warnings (every event is still stored for the UI)."""
    return {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_catalog_pipeline(
    settings: Settings,
    market_url: str,
    scrape_date: str | None = None,
    retailers: list[str] | None = None,
    log_path: Path | None = None,
) -> RunOutcome:
    """Submit one catalog_pipeline run (one day) to the instance and wait for it.

    ``scrape_date`` (default today, UTC) is the partition; ``retailers`` (default freshmart) pick
    the crawl assets, as a subset selection in the launchpad would.
    """
    from orchestration.defs.jobs import catalog_pipeline_selection, crawl_sites_run_config

    run_config = {**crawl_sites_run_config(market_url), **quiet_console()}
    selection = [list(key.path) for key in catalog_pipeline_selection(list(retailers or ["freshmart"]))]
    partition = scrape_date or dt.datetime.now(dt.UTC).date().isoformat()
    log_path = log_path or settings.home / "logs" / "runs.log"
    with DagsterServices(settings, log_path, daemon=True) as services:
        return services.run_job(
            "catalog_pipeline", run_config, partition_key=partition, asset_selection=selection
        )
