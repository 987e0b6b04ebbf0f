"""Faults a running `smartcart serve` meets: its database crashes, comes back, and comes back on
another port. A real `smartcart serve` process against an embedded cluster of this module's own
(so restarting it disturbs no other test), PostgreSQL stopped with `-m immediate` (a crash) and
restarted for real.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from warehouse.platform import cluster
from warehouse.platform.bootstrap import bootstrap
from warehouse.platform.config import DATABASES, Settings, url_env_var

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 10) -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), time.monotonic() - started


def _wait_for(url: str, status: int, within: float) -> float:
    """Seconds until ``url`` answered ``status`` (fails after ``within``)."""
    started = time.monotonic()
    while True:
        try:
            code, _, _ = _get(url, timeout=5)
        except OSError:
            code = None
        if code == status:
            return time.monotonic() - started
        assert time.monotonic() - started < within, (
            f"{url} did not answer {status} within {within} s (last {code})"
        )
        time.sleep(0.2)


@pytest.fixture(scope="module")
def own_cluster():
    home = Path(tempfile.mkdtemp(prefix="smartcart-faults-"))
    os.chmod(home, 0o755)
    env = {
        k: v for k, v in os.environ.items() if k not in {"SMARTCART_PG_PORT", *map(url_env_var, DATABASES)}
    }
    env["SMARTCART_HOME"] = str(home)
    settings = Settings.from_env(env)
    bootstrap(settings)
    try:
        yield settings, env
    finally:
        cluster.stop(settings)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def served(own_cluster):
    settings, env = own_cluster
    port = _free_port()
    smartcart = str(Path(sys.executable).with_name("smartcart"))
    process = subprocess.Popen(
        [smartcart, "serve", "--port", str(port)],
        env={**env, "SMARTCART_API_RATE_LIMIT": "off"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/api/health", 200, within=120)
        yield url, settings, env
    finally:
        process.terminate()
        process.wait(timeout=30)


def _crash(settings: Settings) -> None:
    """`pg_ctl stop -m immediate`: the postmaster and its backends end without a checkpoint."""
    state = cluster.read_cluster_state(settings)
    command = [str(Path(state.bin_dir) / "pg_ctl"), "stop", "-D", state.data_dir, "-m", "immediate", "-w"]
    subprocess.run(cluster._as_server_user(command), check=True, capture_output=True)


def _restart(env: dict[str, str], port: int | None = None) -> Settings:
    # bootstrap as `smartcart db start` runs it; SMARTCART_PG_PORT picks the new port.
    saved = os.environ.get("SMARTCART_PG_PORT")
    try:
        if port is not None:
            os.environ["SMARTCART_PG_PORT"] = str(port)
        settings = Settings.from_env(env)
        bootstrap(settings)
        return settings
    finally:
        if saved is None:
            os.environ.pop("SMARTCART_PG_PORT", None)
        else:
            os.environ["SMARTCART_PG_PORT"] = saved


def test_health_is_503_within_2s_while_the_database_is_down_and_recovers(served):
    url, settings, env = served
    _crash(settings)
    for _ in range(3):
        status, body, seconds = _get(f"{url}/api/health")
        assert status == 503 and body["detail"]["code"] == "catalog_unavailable", body
        assert seconds < 2.0, f"health took {seconds:.2f} s"
    status, body, seconds = _get(f"{url}/api/products/search?q=milk")
    assert status == 503 and seconds < 2.0
    _restart(env)
    recovered = _wait_for(f"{url}/api/health", 200, within=30)
    assert recovered < 30


def test_serve_finds_the_cluster_again_on_another_port(served):
    url, settings, env = served
    old_port = cluster.read_cluster_state(settings).port
    assert _get(f"{url}/api/health")[0] == 200
    cluster.stop(settings)
    assert _get(f"{url}/api/health")[0] == 503
    new_port = _free_port()
    settings = _restart(env, port=new_port)
    assert cluster.read_cluster_state(settings).port == new_port != old_port
    _wait_for(f"{url}/api/health", 200, within=30)
    # Not only health: a request that reads the catalog works on the new address (503 no_prices:
    # this cluster has no mart, which is the catalog answering, not the connection failing).
    status, body, _ = _get(f"{url}/api/retailers")
    assert status == 503 and body["detail"]["code"] == "no_prices"
