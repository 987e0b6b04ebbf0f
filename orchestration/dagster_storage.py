"""Dagster's Postgres event log with a pooled connection (ADR 0027), named in dagster.yaml
(orchestration/dagster_instance.py) as the instance's ``event_log_storage``.

dagster-postgres opens every storage with SQLAlchemy's ``NullPool``: each operation connects anew.
An event write makes two operations (the event, then its asset index), and a connection costs about
15 ms here (a backend start plus SCRAM), so an event cost about 50 ms. A run writes one event per
step change and per materialisation; a 14-day backfill's run starts by writing 739 "planned" events,
37 s before its first step. The event log is the only hot path, so only it keeps one connection
open per process (Dagster's webserver already does the same, in ``optimize_for_webserver``); the run
and schedule storages stay as Dagster ships them.

Nothing about durability changes: every write still commits before it returns.
"""

from __future__ import annotations

import os
import weakref

import sqlalchemy.pool as db_pool
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# One connection kept per process; more open for concurrent threads (the daemon's) and close after.
POOL_SIZE, MAX_OVERFLOW = 1, 8
# A connection the server dropped (a restart, an idle timeout) is noticed before use, not by a failed
# write; and none is older than this, so a long-lived process follows a password rotation.
POOL_RECYCLE_SECONDS = 600

_engines: weakref.WeakSet = weakref.WeakSet()


def _forget_pooled_connections_after_fork() -> None:
    # A forked child must not share its parent's sockets: it opens its own on first use.
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pooled_connections_after_fork)


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    """``PostgresEventLogStorage`` whose engine keeps one connection instead of reconnecting per write."""

    def __init__(
        self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None, token_provider=None
    ):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self._engine.dispose()
        self._engine = create_pg_engine(
            self.postgres_url,
            self._token_provider,
            isolation_level="AUTOCOMMIT",
            poolclass=db_pool.QueuePool,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_pre_ping=True,
            pool_recycle=POOL_RECYCLE_SECONDS,
        )
        _engines.add(self._engine)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
