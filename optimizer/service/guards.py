"""ASGI guards around the HTTP API: abuse limits and the last line against a 500 that kills the connection.

- ``RequestGuard`` (outermost user middleware) answers 429 with ``Retry-After`` to a client over its
  rate limit, and 413 to a body over the size limit (from ``Content-Length`` before anything is read,
  or while a chunked body streams in). Both limits come from ``GuardSettings`` (env, see ``from_env``).
- It also catches what nothing else did: a database that went away becomes a 503, a value the
  database refuses (psycopg ``DataError``) a 422, and anything else a JSON 500, sent by this
  middleware *without re-raising*, so uvicorn keeps the keep-alive connection open (Starlette's
  own error middleware re-raises, and uvicorn then closes the socket under the next request).

Rate limiting uses the ``limits`` library (moving window, in-process memory): the service is
stateless and runs one process per host; a shared limiter would need a shared store.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import HTTPException
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from optimizer.service.connections import CatalogUnavailable

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_RATE_LIMIT = "600/minute"


@dataclass(frozen=True)
class GuardSettings:
    """``max_body_bytes``: larger bodies get 413. ``rate_limit``: a ``limits`` string per client
    ("600/minute", "20/second"), or None for no limit."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_limit: str | None = DEFAULT_RATE_LIMIT

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> GuardSettings:
        """SMARTCART_API_MAX_BODY_BYTES (default 1 MiB); SMARTCART_API_RATE_LIMIT ("off" disables)."""
        env = dict(os.environ if env is None else env)
        raw_body = env.get("SMARTCART_API_MAX_BODY_BYTES", "").strip()
        raw_rate = env.get("SMARTCART_API_RATE_LIMIT", "").strip()
        try:
            max_body = int(raw_body) if raw_body else DEFAULT_MAX_BODY_BYTES
        except ValueError:
            raise ValueError(
                f"SMARTCART_API_MAX_BODY_BYTES={raw_body!r} is not a whole number of bytes"
            ) from None
        if max_body < 1:
            raise ValueError("SMARTCART_API_MAX_BODY_BYTES must be at least 1")
        rate: str | None = raw_rate or DEFAULT_RATE_LIMIT
        if rate.lower() in {"off", "none", "0"}:
            rate = None
        settings = cls(max_body_bytes=max_body, rate_limit=rate)
        settings.parsed_rate_limit()  # fail at start, not at the first request
        return settings

    def parsed_rate_limit(self) -> RateLimitItem | None:
        if self.rate_limit is None:
            return None
        try:
            return parse(self.rate_limit)
        except ValueError:
            raise ValueError(
                f"rate limit {self.rate_limit!r} is not understood: use e.g. '600/minute' or '20/second', "
                "or 'off'"
            ) from None


class BodyTooLarge(HTTPException):
    """Raised while a body streams in; an HTTPException so FastAPI's body reader passes it on."""

    def __init__(self, message: str) -> None:
        super().__init__(
            413,
            detail={"code": "body_too_large", "message": message, "details": None},
            headers={"connection": "close"},
        )


def error_body(code: str, message: str, details: Any = None) -> bytes:
    return json.dumps({"detail": {"code": code, "message": message, "details": details}}).encode()


async def send_json(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app, settings: GuardSettings | None = None) -> None:
        self.app = app
        self.settings = settings or GuardSettings()
        self.rate_limit = self.settings.parsed_rate_limit()
        self.limiter = MovingWindowRateLimiter(MemoryStorage()) if self.rate_limit else None

    def _too_large_message(self) -> str:
        return (
            f"the request body is larger than {self.settings.max_body_bytes} bytes "
            "(SMARTCART_API_MAX_BODY_BYTES); send a smaller basket"
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.limiter is not None and self.rate_limit is not None:
            if not self.limiter.hit(self.rate_limit, client):
                reset_at = self.limiter.get_window_stats(self.rate_limit, client).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                await send_json(
                    send,
                    429,
                    error_body(
                        "rate_limited",
                        f"more than {self.rate_limit} requests from this client; retry in {retry_after} s",
                    ),
                    [(b"retry-after", str(retry_after).encode())],
                )
                return

        limit = self.settings.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            # Refused before reading: the unread body makes the connection unusable, so say so.
            await send_json(
                send,
                413,
                error_body("body_too_large", self._too_large_message()),
                [(b"connection", b"close")],
            )
            return

        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self._too_large_message())
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception as exc:
            if started:  # half a response is out: nothing sane to add; let uvicorn close it
                raise
            status, body, headers = self._answer_for(exc)
            await send_json(send, status, body, headers)

    def _answer_for(self, exc: Exception) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if isinstance(exc, BodyTooLarge):
            return 413, error_body("body_too_large", self._too_large_message()), [(b"connection", b"close")]
        if isinstance(exc, CatalogUnavailable):
            return 503, error_body("catalog_unavailable", str(exc)), [(b"retry-after", b"5")]
        if isinstance(exc, psycopg.OperationalError):
            return 503, error_body("catalog_unavailable", "the catalog database is not reachable"), []
        if isinstance(exc, psycopg.DataError):
            # A value the database refuses is the caller's: say which kind, never echo it.
            return (
                422,
                error_body("invalid_value", f"a value in the request is not valid: {type(exc).__name__}"),
                [],
            )
        log.exception("unhandled error in the HTTP API", exc_info=exc)
        return 500, error_body("internal_error", "unexpected server error; it was logged"), []
