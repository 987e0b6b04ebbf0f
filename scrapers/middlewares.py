"""Downloader middleware: honour ``Retry-After`` on 429/503 before retrying.

Scrapy's own RetryMiddleware retries at once; a rate-limited site asks us to wait. This one waits
what the site says (capped by ``SMARTCART_RETRY_AFTER_MAX``, and ``SMARTCART_RETRY_AFTER_DEFAULT``
when the header is absent), then retries, up to ``RETRY_TIMES``, with exponential back-off when
the site gives no delay. Other retryable statuses stay with Scrapy's RetryMiddleware.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future

RATE_LIMITED = (429, 503)


def retry_after_seconds(value: str | bytes | None, default: float, now: float | None = None) -> float:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return default
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return default
    return max(0.0, when - (now if now is not None else time.time()))


class RetryAfterMiddleware:
    def __init__(self, max_retries: int, max_wait: float, default_wait: float, stats: Any):
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.default_wait = default_wait
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        settings = crawler.settings
        return cls(
            max_retries=settings.getint("RETRY_TIMES"),
            max_wait=settings.getfloat("SMARTCART_RETRY_AFTER_MAX", 60.0),
            default_wait=settings.getfloat("SMARTCART_RETRY_AFTER_DEFAULT", 1.0),
            stats=crawler.stats,
        )

    async def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if response.status not in RATE_LIMITED or request.meta.get("dont_retry"):
            return response
        attempt = request.meta.get("rate_limit_retries", 0)
        if attempt >= self.max_retries:
            self.stats.inc_value("smartcart/rate_limit_gave_up")
            return response  # HttpErrorMiddleware turns it into a failed request
        wait = retry_after_seconds(response.headers.get("Retry-After"), self.default_wait * 2**attempt)
        wait = min(wait, self.max_wait)
        self.stats.inc_value("smartcart/rate_limited")
        self.stats.inc_value("smartcart/rate_limit_wait_seconds", wait)
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        retry = request.replace(dont_filter=True, meta={**request.meta, "rate_limit_retries": attempt + 1})
        retry.priority = request.priority + 1
        return retry
