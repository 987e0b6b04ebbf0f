"""Server-side limits: a killed client's query stops; pipeline roles carry statement/lock timeouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest

from warehouse.platform.access.grants import AccessPolicy, ensure_roles, session_limits
from warehouse.platform.cluster import ensure_role_passwords
from warehouse.platform.config import Settings

POLICY = AccessPolicy.load()

CLIENT = """
import os, psycopg
with psycopg.connect(os.environ["PROBE_URL"], application_name=os.environ["PROBE_NAME"]) as conn:
    conn.execute("select pg_sleep(600)")
"""


def _backend(conn: psycopg.Connection, name: str):
    return conn.execute(
        "select pid, state from pg_stat_activity where application_name = %s", (name,)
    ).fetchone()


@pytest.mark.integration
def test_a_killed_clients_query_stops_on_the_server(warehouse_settings: Settings):
    name = f"kill-probe-{uuid.uuid4().hex[:8]}"
    # The URL (with its password) goes through the environment, never argv.
    env = {
        **os.environ,
        "PROBE_URL": warehouse_settings.database_url("catalog", "smartcart_transform"),
        "PROBE_NAME": name,
    }
    client = subprocess.Popen([sys.executable, "-c", CLIENT], env=env)
    with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as admin:
        deadline = time.monotonic() + 30
        while (_backend(admin, name) or (None, None))[1] != "active":
            assert time.monotonic() < deadline, "the client's query never started"
            time.sleep(0.1)
        os.kill(client.pid, signal.SIGKILL)
        client.wait()
        killed_at = time.monotonic()
        while _backend(admin, name) is not None:
            assert time.monotonic() - killed_at < 15, (
                "the backend kept running its query after the client died"
            )
            time.sleep(0.2)


@pytest.mark.integration
def test_pipeline_roles_carry_their_session_limits(warehouse_settings: Settings):
    for role, limits in session_limits(POLICY).items():
        if role not in POLICY.databases["catalog"]["connect"]:
            continue
        with psycopg.connect(warehouse_settings.database_url("catalog", role)) as conn:
            for name in ("statement_timeout", "lock_timeout"):
                same = conn.execute(
                    "select current_setting(%s)::interval = %s::interval", (name, limits.get(name, "0"))
                ).fetchone()[0]
                assert same, f"{role}: {name} is not {limits.get(name, 'the server default')}"


@pytest.mark.integration
def test_a_run_waiting_on_anothers_lock_fails_saying_so(warehouse_settings: Settings):
    """With a short SMARTCART_PG_LOCK_TIMEOUT, the second writer fails instead of waiting forever."""
    passwords = ensure_role_passwords(warehouse_settings, list(POLICY.roles))
    maintenance = warehouse_settings.database_url("catalog").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        ensure_roles(conn, POLICY, passwords, env={"SMARTCART_PG_LOCK_TIMEOUT": "300ms"})
    try:
        with (
            psycopg.connect(warehouse_settings.database_url("catalog", "smartcart_scraper")) as holder,
            psycopg.connect(warehouse_settings.database_url("catalog", "smartcart_scraper")) as waiter,
        ):
            holder.execute("lock table raw.scrape_runs in access exclusive mode")
            started = time.monotonic()
            with pytest.raises(psycopg.errors.LockNotAvailable, match="lock timeout"):
                waiter.execute("select count(*) from raw.scrape_runs")
            assert time.monotonic() - started < 5
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            ensure_roles(conn, POLICY, passwords, env={})
    with psycopg.connect(warehouse_settings.database_url("catalog", "smartcart_scraper")) as conn:
        assert (
            conn.execute("show lock_timeout").fetchone()[0]
            == POLICY.session_limits["smartcart_scraper"]["lock_timeout"]
        )


def test_session_limits_come_from_roles_yml_with_env_overrides():
    plain = session_limits(POLICY, env={})
    assert (
        plain["smartcart_scraper"]["statement_timeout"]
        == POLICY.session_limits["smartcart_scraper"]["statement_timeout"]
    )
    assert plain["smartcart_analyst"] == {}  # people's roles are not cut off
    overridden = session_limits(POLICY, env={"SMARTCART_PG_STATEMENT_TIMEOUT": "45s"})
    assert {overridden[r]["statement_timeout"] for r in POLICY.session_limits} == {"45s"}
    assert overridden["smartcart_analyst"] == {}
    with pytest.raises(ValueError, match="SMARTCART_PG_LOCK_TIMEOUT='soon'"):
        session_limits(POLICY, env={"SMARTCART_PG_LOCK_TIMEOUT": "soon"})
