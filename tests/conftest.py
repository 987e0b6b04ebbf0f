"""Shared fixtures: a real embedded PostgreSQL cluster of the tests' own, on a free port.

The cluster lives in a fresh SMARTCART_HOME under /tmp (the postgres OS user must be able
to enter it), is bootstrapped by the same code as `smartcart db start`, and is stopped
and removed at the end of the session. Nothing here touches the developer's .smartcart/.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from warehouse.platform import cluster
from warehouse.platform.bootstrap import bootstrap
from warehouse.platform.config import DATABASES, Settings, url_env_var

# The tests use fixed days from 2025 on; day partitions default to the last 30 days only.
os.environ.setdefault("SMARTCART_PARTITIONS_START", "2024-01-01")


@contextmanager
def own_cluster(prefix: str, activate: bool = True) -> Iterator[Settings]:
    """A bootstrapped embedded cluster in a fresh SMARTCART_HOME, stopped and removed afterwards.

    With ``activate`` the process environment points at it for the duration (as `smartcart` would
    see it), and the whole environment is put back afterwards: code under test (the Dagster services)
    writes DAGSTER_HOME and friends into os.environ, which must not leak into later modules.
    """
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(home, 0o755)  # the postgres OS user must be able to enter it when we run as root
    saved = dict(os.environ)
    overrides = {"SMARTCART_HOME": str(home)}
    if activate:
        for key in ["SMARTCART_PG_PORT", *map(url_env_var, DATABASES)]:
            os.environ.pop(key, None)
        os.environ.update(overrides)
        # Tests run several clusters at once on shared machines: a small memory budget each.
        os.environ["SMARTCART_PG_MEMORY"] = os.environ.get("SMARTCART_TEST_PG_MEMORY", "512MB")
        settings = Settings.from_env()
    else:
        settings = Settings.from_env(overrides)
    try:
        bootstrap(settings)
        yield settings
    finally:
        cluster.stop(settings)
        shutil.rmtree(home, ignore_errors=True)
        if activate:
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="session")
def warehouse_settings() -> Iterator[Settings]:
    """The session's shared cluster: most tests add their own rows and count only those."""
    with own_cluster("smartcart-test-") as settings:
        yield settings


@pytest.fixture(scope="module")
def isolated_warehouse() -> Iterator[Settings]:
    """A cluster of the module's own, for end-to-end tests that count whole tables or whole days
    (the session cluster holds what earlier modules landed, such as the synthetic markets)."""
    with own_cluster("smartcart-module-") as settings:
        yield settings


@pytest.fixture(scope="module")
def spare_cluster() -> Iterator[Settings]:
    """A second, empty cluster beside the active one (restore targets, crash tests); the process
    environment keeps pointing at the active one."""
    with own_cluster("smartcart-spare-", activate=False) as settings:
        yield settings


RAW_CATALOG_TABLES = ("raw.price_observations", "raw.stores", "raw.rejected_items", "raw.scrape_runs")


@pytest.fixture
def catalog_conn(warehouse_settings: Settings):
    """Admin connection to a migrated, empty smartcart_catalog raw landing."""
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        conn.execute(f"truncate {', '.join(RAW_CATALOG_TABLES)}")
        conn.commit()
        yield conn


def _pair_metrics(
    truth: dict[tuple[str, str], int], predicted: dict[tuple[str, str], str]
) -> dict[str, float]:
    """Pairwise precision and recall of a clustering of retailer products against the ground truth."""
    import itertools

    keys = sorted(set(truth) & set(predicted))
    true_pairs = predicted_pairs = both = 0
    for a, b in itertools.combinations(keys, 2):
        same_truth = truth[a] == truth[b]
        same_predicted = predicted[a] == predicted[b]
        true_pairs += same_truth
        predicted_pairs += same_predicted
        both += same_truth and same_predicted
    return {
        "precision": both / predicted_pairs if predicted_pairs else 1.0,
        "recall": both / true_pairs if true_pairs else 1.0,
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "retailer_products": len(keys),
    }


@pytest.fixture(scope="session")
def pair_metrics():
    """Pairwise precision/recall of product matching against ground truth (for dbt and pipeline tests)."""
    return _pair_metrics


@pytest.fixture(scope="session")
def live_group_members():
    """A function: `pid command` of every live (non-zombie) process whose group is in ``groups``.
    Fault tests use it to show a stopped service left nothing behind (zombies run nothing, and PID 1
    here reaps them slowly)."""
    import subprocess

    def members(groups: set[int]) -> list[str]:
        listing = subprocess.run(
            ["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True
        ).stdout
        live = []
        for line in listing.splitlines():
            pid, pgid, stat, *args = line.split(None, 3)
            if int(pgid) in groups and not stat.startswith("Z"):
                live.append(f"{pid} {' '.join(args)}")
        return live

    return members
