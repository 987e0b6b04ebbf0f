"""Dagster's instance for SmartCart: run and event storage in the smartcart_dagster database."""

from __future__ import annotations

import os

from warehouse.platform.access.roles import Role
from warehouse.platform.config import ConfigurationError, Settings

DAGSTER_ROLE = Role.DAGSTER

INSTANCE_YAML = """\
# Written by smartcart; the storage URL comes from the environment, never from this file.
# docs/deploy.md shows the production version: the same keys, other settings.
# The three storages of `storage: postgres`, named one by one so that the event log can be the one
# that keeps a connection open (orchestration/dagster_storage.py, ADR 0027).
run_storage:
  module: dagster_postgres.run_storage
  class: PostgresRunStorage
  config:
    postgres_url:
      env: SMARTCART_DAGSTER_STORAGE_URL
event_log_storage:
  module: orchestration.dagster_storage
  class: PooledPostgresEventLogStorage
  config:
    postgres_url:
      env: SMARTCART_DAGSTER_STORAGE_URL
schedule_storage:
  module: dagster_postgres.schedule_storage
  class: PostgresScheduleStorage
  config:
    postgres_url:
      env: SMARTCART_DAGSTER_STORAGE_URL
# The default launcher, plus a run-worker health check: a run whose worker died is marked failed
# and its leftover children are stopped (orchestration/dagster_launcher.py).
run_launcher:
  module: orchestration.dagster_launcher
  class: SmartcartRunLauncher
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 5
concurrency:
  # Runs wait in the queue (the QueuedRunCoordinator). One run per (asset group, partition) at a
  # time: the day partitions of the catalog and the shard partitions of the optimizer batch never
  # share a key, so the partition tag is that pair. A second run of the same partition (or of the
  # same backfill range) stays QUEUED until the first finishes.
  runs:
    # At most SMARTCART_MAX_CONCURRENT_RUNS runs at once (default 2 on this small machine); Dagster
    # takes no env var here, so the number is written in when this file is prepared.
    max_concurrent_runs: {max_concurrent_runs}
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
      - key: dagster/asset_partition_range_start
        value:
          applyLimitPerUniqueValue: true
        limit: 1
  # Steps in a pool run one at a time across all runs: dbt builds of one target never overlap.
  pools:
    default_limit: 1
# How often the daemon looks at the queue (Dagster's default is 5 s): a run waits at most 1 s there
# before it is launched. Each look is one small query on the runs table.
run_queue:
  dequeue_interval_seconds: 1
telemetry:
  enabled: false
"""


def sqlalchemy_psycopg2_url(url: str) -> str:
    """dagster-postgres needs the psycopg2 driver (SQLAlchemy 2.1 would pick psycopg 3 for postgresql://)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def prepare_dagster_env(settings: Settings) -> dict[str, str]:
    """Write DAGSTER_HOME/dagster.yaml and return the variables Dagster processes need."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    max_runs = os.environ.get("SMARTCART_MAX_CONCURRENT_RUNS", "2")
    if not max_runs.isdigit() or int(max_runs) < 1:
        raise ConfigurationError(
            f"SMARTCART_MAX_CONCURRENT_RUNS={max_runs!r} must be a whole number of runs, 1 or more"
        )
    (settings.dagster_home / "dagster.yaml").write_text(
        INSTANCE_YAML.replace("{max_concurrent_runs}", max_runs)
    )
    role = None if not settings.is_embedded("dagster") else DAGSTER_ROLE
    env = {
        "DAGSTER_HOME": str(settings.dagster_home),
        "SMARTCART_DAGSTER_STORAGE_URL": sqlalchemy_psycopg2_url(settings.database_url("dagster", role)),
        "SMARTCART_HOME": str(settings.home),
        "SMARTCART_MAX_CONCURRENT_RUNS": max_runs,
    }
    os.environ.update(env)
    return env
