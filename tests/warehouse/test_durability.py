"""Every commit that returned survives a crash of the server (issue 12, item 1).

A cluster of this module's own (it gets killed): load through the real loader and through a
bare insert loop, commit, crash the server with `pg_ctl stop -m immediate` or SIGKILL of the
postmaster, restart it, and count what is there.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from scrapers.crawl import run_crawl_subprocess
from scrapers.demo_market import launch
from warehouse.landing.loading import load_crawl_landing
from warehouse.platform import cluster
from warehouse.platform.config import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRAPE_DATE = dt.date(1999, 11, 30)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    with launch(seed=7, products=150, stores=3, date=dt.date(2026, 11, 22)) as market:
        return run_crawl_subprocess(
            "freshmart", market.base_url, SCRAPE_DATE, f"crash-{uuid.uuid4().hex[:8]}",
            tmp_path_factory.mktemp("crash-landing"),
        )  # fmt: skip


def _postmaster_pid(settings: Settings) -> int:
    state = cluster.read_cluster_state(settings)
    return int((Path(state.data_dir) / "postmaster.pid").read_text().splitlines()[0])


def crash(settings: Settings, how: str) -> None:
    """Crash the server the way an operator meets it, then start it again as `smartcart db start` does."""
    state = cluster.read_cluster_state(settings)
    pid = _postmaster_pid(settings)
    if how == "immediate":
        subprocess.run(
            cluster._as_server_user(
                [f"{state.bin_dir}/pg_ctl", "stop", "-D", state.data_dir, "-m", "immediate"]
            ),
            check=True,
            capture_output=True,
        )
    else:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the postmaster did not die"
    assert not cluster.is_running(settings)
    # Orphaned backends notice the postmaster's death and exit; until then the restart is refused.
    for attempt in range(50):
        try:
            cluster.start(settings, roles=[])
            break
        except cluster.ClusterError:
            if attempt == 49:
                raise
            time.sleep(0.2)
    assert _postmaster_pid(settings) != pid


@pytest.mark.parametrize("how", ["immediate", "sigkill"])
def test_a_returned_load_survives_a_crash(spare_cluster: Settings, landing, how: str):
    with psycopg.connect(spare_cluster.database_url("catalog", "smartcart_scraper")) as conn:
        summary = load_crawl_landing(conn, landing)
    assert summary.rows > 0
    crash(spare_cluster, how)
    with psycopg.connect(spare_cluster.database_url("catalog")) as conn:
        rows = conn.execute(
            "select count(*) from raw.price_observations where retailer = 'freshmart' and scrape_date = %s",
            (SCRAPE_DATE,),
        ).fetchone()[0]
        stores = conn.execute(
            "select count(*) from raw.stores where retailer = 'freshmart' and scrape_date = %s",
            (SCRAPE_DATE,),
        ).fetchone()[0]
        run = conn.execute(
            "select status, items, stores, rejects from raw.scrape_runs where run_id = %s", (landing.run_id,)
        ).fetchone()
    assert (rows, stores) == (summary.rows, summary.stores)
    assert run == ("succeeded", summary.rows, summary.stores, summary.rejects)


@pytest.mark.parametrize("how", ["immediate", "sigkill"])
def test_every_committed_insert_survives_a_crash(spare_cluster: Settings, how: str):
    table = f"public.durability_probe_{how}"
    with psycopg.connect(spare_cluster.database_url("catalog"), autocommit=True) as conn:
        conn.execute(f"drop table if exists {table}")
        conn.execute(f"create table {table} (n int primary key, at timestamptz default clock_timestamp())")
    with psycopg.connect(spare_cluster.database_url("catalog")) as conn:
        for n in range(25):
            conn.execute(f"insert into {table} (n) values (%s)", (n,))
            conn.commit()  # returned: it must survive
    crash(spare_cluster, how)  # at once: an asynchronous commit would still sit in the WAL buffers
    with psycopg.connect(spare_cluster.database_url("catalog")) as conn:
        survived = [n for (n,) in conn.execute(f"select n from {table} order by n")]
    assert survived == list(range(25))
