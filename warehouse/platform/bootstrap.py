"""Bring the warehouse to its declared state: cluster, databases, roles, migrations, grants.

Every step is idempotent; `smartcart db start`, `make demo` and the test fixtures all
call `bootstrap()`, so a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from warehouse.platform import cluster
from warehouse.platform.access.grants import (
    AccessPolicy,
    apply_database_grants,
    ensure_database,
    ensure_roles,
)
from warehouse.platform.config import DATABASES, Settings
from warehouse.platform.migrate import apply_migrations


@dataclass
class BootstrapReport:
    port: int | None
    migrations_applied: dict[str, list[str]] = field(default_factory=dict)


def bootstrap(settings: Settings | None = None) -> BootstrapReport:
    settings = settings or Settings.from_env()
    policy = AccessPolicy.load()
    port = None
    if settings.uses_embedded_cluster:
        state = cluster.start(settings, roles=list(policy.roles))
        port = state.port
        passwords = cluster.ensure_role_passwords(settings, list(policy.roles))
        maintenance_url = settings.database_url("catalog").rsplit("/", 1)[0] + "/postgres?sslmode=disable"
        with psycopg.connect(maintenance_url, autocommit=True) as conn, cluster.cluster_lock(settings):
            ensure_roles(conn, policy, passwords)
            for database in DATABASES:
                if settings.is_embedded(database):
                    ensure_database(conn, database, policy)

    report = BootstrapReport(port=port)
    for database in DATABASES:
        # External servers: migrations run with the URL's role; roles/grants there are the DBA's call
        # unless that role may grant (then roles.yml applies too).
        with psycopg.connect(settings.database_url(database), autocommit=True) as conn:
            report.migrations_applied[database] = apply_migrations(conn, database)
            if settings.is_embedded(database):
                with conn.transaction():
                    apply_database_grants(conn, database, policy)
    return report
