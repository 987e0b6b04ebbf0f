"""The instance's event log keeps one connection (ADR 0027): writes reuse it, and a restarted server
costs nothing but a reconnect."""

from __future__ import annotations

import time

import psycopg
import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent
from dagster._core.events.log import EventLogEntry
from dagster_postgres.event_log import PostgresEventLogStorage

from orchestration.dagster_instance import prepare_dagster_env
from orchestration.dagster_storage import PooledPostgresEventLogStorage
from warehouse.platform import cluster

pytestmark = pytest.mark.integration
WRITES = 40


def _entry(run_id: str, partition: str) -> EventLogEntry:
    event = DagsterEvent.build_asset_materialization_planned_event(
        "storage_test_job",
        "step",
        AssetMaterializationPlannedData(AssetKey(["storage_test"]), partition=partition),
    )
    return EventLogEntry(
        error_info=None, level=10, user_message="", run_id=run_id, timestamp=time.time(), dagster_event=event
    )


def _sessions(settings) -> int:
    """Sessions ever opened on smartcart_dagster (PostgreSQL's own count; flushed within a second)."""
    time.sleep(1.5)
    with psycopg.connect(settings.database_url("dagster")) as conn:
        return conn.execute(
            "select sessions from pg_stat_database where datname = current_database()"
        ).fetchone()[0]


@pytest.fixture(scope="module")
def instance(isolated_warehouse):
    prepare_dagster_env(
        isolated_warehouse
    )  # writes dagster.yaml as smartcart does; the env is restored after
    with DagsterInstance.get() as instance:
        yield instance


def test_the_instance_and_every_process_it_hands_a_ref_to_use_the_pooled_event_log(instance):
    assert isinstance(instance.event_log_storage, PooledPostgresEventLogStorage)
    assert instance.get_ref().event_storage_data.class_name == "PooledPostgresEventLogStorage"  # run workers


def test_event_writes_reuse_one_connection_where_dagsters_own_storage_opens_two_each(
    instance, isolated_warehouse
):
    storage = instance.event_log_storage
    storage.store_event(_entry("pooled-warm-up", "0"))
    before = _sessions(isolated_warehouse)
    for n in range(WRITES):
        storage.store_event(_entry("pooled-run", str(n)))
    pooled = _sessions(isolated_warehouse) - before - 1  # the count's own connection
    plain = PostgresEventLogStorage(storage.postgres_url)
    before = _sessions(isolated_warehouse)
    for n in range(WRITES):
        plain.store_event(_entry("plain-run", str(n)))
    unpooled = _sessions(isolated_warehouse) - before - 1
    assert pooled <= 1, pooled
    assert unpooled >= 2 * WRITES, unpooled  # what the pool saves: a connection (15 ms here) per operation
    assert len(storage.get_logs_for_run("pooled-run")) == WRITES


def test_a_restarted_server_costs_a_reconnect_not_a_failed_write(instance, isolated_warehouse):
    storage = instance.event_log_storage
    storage.store_event(_entry("restart-run", "before"))  # the pool holds a live connection now
    cluster.stop(isolated_warehouse)  # the server closes it
    cluster.start(isolated_warehouse, roles=[])
    storage.store_event(_entry("restart-run", "after"))
    partitions = [
        entry.dagster_event.event_specific_data.partition for entry in storage.get_logs_for_run("restart-run")
    ]
    assert partitions == ["before", "after"]
