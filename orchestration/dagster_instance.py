"""Dagster's instance for SmartCart: run and event storage in the smartcart_dagster database."""

from __future__ import annotations

import os

from warehouse.platform.access.roles import Role
from warehouse.platform.config import Settings

DAGSTER_ROLE = Role.DAGSTER

INSTANCE_YAML = """\
# Written by smartcart; the storage URL comes from the environment, never from this file.
storage:
  postgres:
    postgres_url:
      env: SMARTCART_DAGSTER_STORAGE_URL
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
    (settings.dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)
    role = None if not settings.is_embedded("dagster") else DAGSTER_ROLE
    env = {
        "DAGSTER_HOME": str(settings.dagster_home),
        "SMARTCART_DAGSTER_STORAGE_URL": sqlalchemy_psycopg2_url(settings.database_url("dagster", role)),
        "SMARTCART_HOME": str(settings.home),
    }
    os.environ.update(env)
    return env
