"""Dagster's instance for SmartCart: run and event storage in the smartcart_dagster database."""

from __future__ import annotations

import os

from warehouse.config import Settings

DAGSTER_ROLE = "smartcart_dagster"

INSTANCE_YAML = """\
# Written by smartcart; the storage URL comes from the environment, never from this file.
storage:
  postgres:
    postgres_url:
      env: SMARTCART_DAGSTER_STORAGE_URL
telemetry:
  enabled: false
"""


def prepare_dagster_env(settings: Settings) -> dict[str, str]:
    """Write DAGSTER_HOME/dagster.yaml and return the variables Dagster processes need."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    (settings.dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)
    role = None if not settings.is_embedded("dagster") else DAGSTER_ROLE
    env = {
        "DAGSTER_HOME": str(settings.dagster_home),
        "SMARTCART_DAGSTER_STORAGE_URL": settings.database_url("dagster", role),
        "SMARTCART_HOME": str(settings.home),
    }
    os.environ.update(env)
    return env
