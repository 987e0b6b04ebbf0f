"""orchestration.runs stops service process groups within a bound, whatever state Popen is in.

Real processes, real signals: a child that ignores SIGTERM, a grandchild in its group, and a Popen
whose internal wait lock was left held by an interrupt (the SIGTERM-orphan hang of issue 12).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from orchestration.runs import _signals_held, reaped, stop_process_groups

# A service that ignores SIGTERM and has started a child of its own (in its group), as a code
# server with run workers does.
STUBBORN = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
    print(worker.pid, flush=True)
    time.sleep(300)
    """
)


@pytest.fixture(autouse=True)
def default_signal_dispositions():
    """Each test starts from Python's default SIGINT/SIGTERM handling and puts back what it found.

    Earlier tests of the session run Dagster in this process, and Dagster maps SIGTERM onto
    whatever SIGINT's handler is; an ignored SIGTERM is inherited across exec, so the children
    below would ignore it too (seen: `sleep` killed by the SIGKILL, not the SIGTERM).
    """
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for signum, handler in previous.items():
        if handler is not None:  # None: installed outside Python, nothing to put back
            signal.signal(signum, handler)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _service(code: str) -> tuple[subprocess.Popen, int | None]:
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    line = process.stdout.readline().strip()
    return process, int(line) if line else None


def test_every_group_is_stopped_in_bounded_time_even_when_it_ignores_sigterm():
    stubborn, worker = _service(STUBBORN)
    polite = subprocess.Popen(["sleep", "300"], start_new_session=True)
    started = time.monotonic()
    stop_process_groups([stubborn, polite], timeout=2.0, reap_timeout=5.0)
    took = time.monotonic() - started
    assert polite.returncode == -signal.SIGTERM  # stopped by the SIGTERM, not the SIGKILL
    assert stubborn.returncode == -signal.SIGKILL
    assert 2.0 <= took < 7.0, took  # the SIGTERM grace, shared by both groups, then the kill
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the service's own child survived its group's SIGKILL"


def test_a_popen_whose_wait_lock_an_interrupt_left_held_is_still_stopped():
    service = subprocess.Popen(["sleep", "300"], start_new_session=True)
    # What a KeyboardInterrupt between poll()'s acquire and its try leaves behind (see reaped()).
    assert service._waitpid_lock.acquire(False)
    try:
        assert service.poll() is None and not reaped(service)
        started = time.monotonic()
        stop_process_groups([service], timeout=5.0, reap_timeout=5.0)
        assert time.monotonic() - started < 5.0
        assert service.returncode == -signal.SIGTERM and not _alive(service.pid)
    finally:
        service._waitpid_lock.release()


def test_sigterm_and_sigint_are_held_while_the_services_stop():
    with _signals_held() as held:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # a raised KeyboardInterrupt would abort the block here
    assert held == [signal.SIGTERM, signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers put back
