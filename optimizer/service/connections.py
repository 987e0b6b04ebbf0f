"""The HTTP service's catalog connections: a pool that survives the database going away.

Two faults a long-running ``smartcart serve`` meets (issue 12):
- the database is down for a while: requests get a 503 within ``ACQUIRE_TIMEOUT_SECONDS`` (never a
  500, never a 10 s hang), and the pool reconnects by itself once the server is back;
- the embedded cluster restarts on another port (``cluster.json`` changes): on a failed acquire the
  URL is resolved again, and if it moved the pool is replaced by one on the new URL.

Connections are checked when they leave the pool (``ConnectionPool.check_connection``, one round
trip on a local socket), so a connection broken by a restart is dropped before a request sees it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

# /api/health must answer within 2 s when the database is down: one wait on the current pool,
# then (if the URL moved) one on the new pool, both inside that budget.
ACQUIRE_TIMEOUT_SECONDS = 0.9
# How long a single connection attempt may take (a remote server that does not answer).
CONNECT_TIMEOUT_SECONDS = 2


class CatalogUnavailable(RuntimeError):
    """The catalog database cannot be reached now (the service answers 503)."""


def _with_connect_timeout(url: str) -> str:
    # The embedded URL carries connect_timeout=10; a pool attempt must give up sooner.
    if "connect_timeout=" in url:
        head, _, tail = url.partition("connect_timeout=")
        rest = tail.split("&", 1)
        return head + f"connect_timeout={CONNECT_TIMEOUT_SECONDS}" + ("&" + rest[1] if len(rest) > 1 else "")
    return url + ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT_SECONDS}"


class CatalogConnections:
    """A psycopg pool on the catalog whose URL is re-resolved when the database is unreachable."""

    def __init__(
        self,
        resolve_url: Callable[[], str],
        max_size: int = 4,
        configure: Callable[[psycopg.Connection], None] | None = None,
    ) -> None:
        self._resolve_url = resolve_url
        self._configure = configure
        self._max_size = max_size
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._url: str | None = None

    def _new_pool(self, url: str) -> ConnectionPool:
        pool = ConnectionPool(
            _with_connect_timeout(url),
            min_size=1,
            max_size=self._max_size,
            open=False,
            kwargs={"autocommit": True},
            configure=self._configure,
            check=ConnectionPool.check_connection,
            # Keep trying in the background while the server is down (the default gives up after
            # 5 minutes and leaves the pool short); failed attempts are retried with backoff.
            reconnect_timeout=24 * 3600,
            name="smartcart-api-catalog",
        )
        pool.open(wait=False)
        return pool

    def open(self) -> None:
        with self._lock:
            if self._pool is None:
                self._url = self._resolve_url()
                self._pool = self._new_pool(self._url)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def _swap_if_moved(self) -> bool:
        """Resolve the URL again (e.g. re-read cluster.json); replace the pool if it changed."""
        try:
            url = self._resolve_url()
        except Exception as exc:  # a half-written cluster.json, a missing secrets file...
            log.warning("could not resolve the catalog URL again: %s", exc)
            return False
        with self._lock:
            if url == self._url:
                return False
            old, self._url, self._pool = self._pool, url, self._new_pool(url)
        log.warning("the catalog moved (new URL); reconnecting the pool")
        if old is not None:
            threading.Thread(target=old.close, kwargs={"timeout": 1.0}, daemon=True).start()
        return True

    @contextmanager
    def connection(self, timeout: float = ACQUIRE_TIMEOUT_SECONDS) -> Iterator[psycopg.Connection]:
        """A checked connection, or ``CatalogUnavailable`` within about 2 x ``timeout``."""
        if self._pool is None:
            self.open()
        pool = self._pool
        assert pool is not None
        try:
            conn = pool.getconn(timeout=timeout)
        except PoolTimeout:
            if not self._swap_if_moved():
                raise CatalogUnavailable(
                    "the catalog database is not reachable; it is retried in the background "
                    "(start it with `smartcart db start`)"
                ) from None
            pool = self._pool
            assert pool is not None
            try:
                conn = pool.getconn(timeout=timeout)
            except PoolTimeout:
                raise CatalogUnavailable("the catalog database is not reachable at its new address") from None
        try:
            yield conn
        except psycopg.OperationalError as exc:
            # The server went away mid-request: the pool drops this connection when it comes back.
            self._swap_if_moved()
            raise CatalogUnavailable(f"the catalog database connection failed: {exc}") from exc
        finally:
            pool.putconn(conn)
