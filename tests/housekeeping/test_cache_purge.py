"""The optimizer cache purge on the real cluster, through the housekeeping job on the instance."""

from __future__ import annotations

import psycopg
import pytest

from warehouse.platform.housekeeping import purge_optimizer_cache

pytestmark = pytest.mark.integration


def _seed(conn: psycopg.Connection) -> None:
    conn.execute("truncate serving.optimizer_cache")
    conn.execute(
        "insert into serving.optimizer_cache (request_hash, prices_version, response, expires_at) values"
        " ('expired-1', 'v1', '{}', now() - interval '1 minute'),"
        " ('expired-2', 'v1', '{}', now() - interval '2 days'),"
        " ('live', 'v1', '{}', now() + interval '1 hour')"
    )
    conn.commit()


def test_purge_deletes_expired_rows_only_and_converges(warehouse_settings):
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        _seed(conn)
        assert purge_optimizer_cache(warehouse_settings) == 2
        assert purge_optimizer_cache(warehouse_settings) == 0
        left = [r[0] for r in conn.execute("select request_hash from serving.optimizer_cache")]
    assert left == ["live"]


@pytest.mark.slow
def test_housekeeping_job_runs_on_the_instance(warehouse_settings, tmp_path):
    from orchestration.runs import DagsterServices

    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        _seed(conn)
    with DagsterServices(warehouse_settings, tmp_path / "services.log") as services:
        outcome = services.run_job("optimizer_cache_purge")
        run = services.instance.get_run_by_id(outcome.run_id)
    assert outcome.success, outcome.statuses
    assert run.remote_job_origin is not None  # launched from the code location, as the UI does
    outputs = [e for e in outcome.all_events if e.event_type_value == "STEP_OUTPUT"]
    assert outputs[0].event_specific_data.metadata["rows_purged"].value == 2
