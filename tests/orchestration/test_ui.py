"""`smartcart ui` serves the real code location: webserver + daemon, storage in smartcart_dagster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from warehouse.platform.cluster import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


def _graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_ui_serves_the_asset_graph_and_stops_all_it_started_on_sigterm(
    warehouse_settings, live_group_members
):
    port = free_port()
    smartcart = str(Path(sys.executable).with_name("smartcart"))
    log = warehouse_settings.home / "ui-test.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [smartcart, "ui", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "SMARTCART_HOME": str(warehouse_settings.home)},
        )
    try:
        deadline, data = time.monotonic() + 180, None
        while time.monotonic() < deadline:
            assert process.poll() is None, f"smartcart ui exited early:\n{log.read_text()[-3000:]}"
            try:
                data = _graphql(port)
                if data.get("data", {}).get("assetNodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data and data["data"]["assetNodes"], f"no asset graph served:\n{log.read_text()[-3000:]}"
        nodes = {"/".join(n["assetKey"]["path"]): n for n in data["data"]["assetNodes"]}
        assert {
            "catalog_raw/price_observations",
            "catalog/fct_prices_daily",
            "sample_basket_split",
            "catalog_delivery",
        } <= set(nodes)
        deps = {"/".join(d["path"]) for d in nodes["stg_scraped__price_observations"]["dependencyKeys"]}
        assert deps == {"catalog_raw/price_observations"}
        # The instance keeps its storage in smartcart_dagster (tables created by dagster-postgres).
        with psycopg.connect(warehouse_settings.database_url("dagster")) as conn:
            tables = {
                r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")
            }
        assert {"runs", "event_logs"} <= tables

        # SIGTERM to `smartcart ui` alone (as a service manager sends it) stops everything it started:
        # `dagster dev` and the webserver, daemon and code servers in its group.
        groups = {process.pid} | {os.getpgid(pid) for pid in _children(process.pid)}
        assert len(groups) == 2, groups  # smartcart ui's own group, and dagster dev's
        before = live_group_members(groups)
        assert len(before) >= 4, before  # smartcart ui, dagster dev, webserver, daemon (+ code servers)
        process.send_signal(signal.SIGTERM)
        assert process.wait(90) == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (left := live_group_members(groups)):
            time.sleep(0.5)
        assert not left, f"left running after SIGTERM: {left}"
    finally:
        if process.poll() is None:  # a failed assertion above: stop it as gently as the test would
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    listing = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in listing.split()]
