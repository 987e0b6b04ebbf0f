"""Connections to the SmartCart databases, resolved through warehouse.platform.config."""

from __future__ import annotations

import psycopg

from warehouse.platform.config import Settings


def connect(
    database: str, role: str | None = None, settings: Settings | None = None, **kwargs
) -> psycopg.Connection:
    """Open a psycopg connection to `database` ('vault', 'catalog', 'behavior', 'dagster') as `role`."""
    settings = settings or Settings.from_env()
    return psycopg.connect(settings.database_url(database, role), **kwargs)
