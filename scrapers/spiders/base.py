"""Base class for retailers that expose a paged JSON search/browse API (stores list + product pages).

A retailer spider declares data: ``name``/``retailer``, ``currency``, URL paths, field maps from
the API's keys to ``scrapers.items`` fields, and ``politeness`` settings. Hooks (``stores_url``,
``products_url``, ``store_records``, ``product_records``, ``total_pages``, ``store_item``,
``price_item``) cover APIs whose shape differs. Spiders yield raw values; pipelines clean them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy import exceptions as scrapy_exceptions
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from scrapers.items import PriceObservation, Store
from scrapers.landing import source_for

FAILED_REQUESTS_STAT = "smartcart/request_failures"
FIRST_FAILURE_STAT = "smartcart/first_failure"
PAGES_STAT = "smartcart/pages"
PAGES_EXPECTED_STAT = "smartcart/pages_expected"


def _scrapy_errors(*names: str) -> tuple[type[BaseException], ...]:
    return tuple(getattr(scrapy_exceptions, name) for name in names if hasattr(scrapy_exceptions, name))


def describe_failure(failure: Failure) -> str:
    """A short, human reason for a failed request: what an operator should look at."""
    request = getattr(failure, "request", None)
    url = getattr(request, "url", "") or ""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status} from {url}"
    # Scrapy >= 2.14 wraps Twisted's errors in its own download exceptions; older ones do not.
    if failure.check(ConnectionRefusedError, *_scrapy_errors("DownloadConnectionRefusedError")):
        return f"connection refused to {origin}"
    if failure.check(DNSLookupError, *_scrapy_errors("CannotResolveHostError")):
        return f"DNS lookup failed for {origin}"
    if failure.check(TimeoutError, TCPTimedOutError, *_scrapy_errors("DownloadTimeoutError")):
        return f"timed out talking to {origin}"
    if failure.check(
        ConnectionLost, ResponseFailed, ResponseNeverReceived,
        *_scrapy_errors("DownloadFailedError", "ResponseDataLossError"),
    ):  # fmt: skip
        return f"connection to {origin} lost mid-response"
    return f"{failure.type.__name__}: {failure.getErrorMessage()} ({url})"


class PagedJsonApiSpider(scrapy.Spider):
    retailer: ClassVar[str]
    currency: ClassVar[str]
    stores_path: ClassVar[str] = "/api/stores"
    products_path: ClassVar[str] = "/api/products"
    page_size: ClassVar[int] = 100
    stores_key: ClassVar[str] = "stores"
    products_key: ClassVar[str] = "products"
    total_pages_key: ClassVar[str] = "totalPages"
    # items field -> API key
    store_field_map: ClassVar[dict[str, str]] = {}
    product_field_map: ClassVar[dict[str, str]] = {}
    politeness: ClassVar[dict[str, Any]] = {}

    def __init__(self, base_url: str | None = None, scrape_date: str | dt.date | None = None,
                 run_id: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        if not base_url or not scrape_date or not run_id:
            raise ValueError(f"spider {self.name} needs base_url, scrape_date and run_id arguments")
        self.base_url = base_url.rstrip("/")
        self.scrape_date = (
            scrape_date if isinstance(scrape_date, dt.date) else dt.date.fromisoformat(scrape_date)
        )
        self.run_id = run_id
        self.allowed_domains = [urlsplit(self.base_url).hostname or ""]

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        settings.setdict(cls.politeness, priority="spider")
        settings.set("SMARTCART_DEFAULT_CURRENCY", cls.currency, priority="spider")

    # hooks --------------------------------------------------------------------
    def stores_url(self) -> str:
        return f"{self.base_url}{self.stores_path}"

    def products_url(self, store_id: str, page: int) -> str:
        query = urlencode({"store": store_id, "page": page, "pageSize": self.page_size})
        return f"{self.base_url}{self.products_path}?{query}"

    def store_records(self, document: Any) -> list[dict[str, Any]]:
        return document[self.stores_key]

    def product_records(self, document: Any) -> list[dict[str, Any]]:
        return document[self.products_key]

    def total_pages(self, document: Any) -> int:
        return int(document[self.total_pages_key])

    def _provenance(self, response: Response, store_id: Any, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "retailer": self.retailer,
            "store_id": store_id,
            "scrape_date": self.scrape_date,
            "fetched_at": dt.datetime.now(dt.UTC),
            "source": source_for(self.retailer),
            "source_url": response.url,
            "run_id": self.run_id,
            "raw_payload": record,
        }

    def store_item(self, record: dict[str, Any], response: Response) -> Store:
        fields = {field: record.get(key) for field, key in self.store_field_map.items()}
        store_id = fields.pop("store_id", None)
        return Store(**self._provenance(response, store_id, record), **fields)

    def price_item(self, record: dict[str, Any], store_id: str, response: Response) -> PriceObservation:
        fields = {field: record.get(key) for field, key in self.product_field_map.items()}
        fields.setdefault("currency", self.currency)
        return PriceObservation(**self._provenance(response, store_id, record), **fields)

    # crawl --------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        yield scrapy.Request(self.stores_url(), callback=self.parse_stores, errback=self.on_request_failed)

    def _json(self, response: Response) -> Any:
        return json.loads(response.body)

    def parse_stores(self, response: Response) -> Iterable[Any]:
        self.crawler.stats.inc_value(PAGES_STAT)
        for record in self.store_records(self._json(response)):
            store = self.store_item(record, response)
            yield store
            if store.store_id:
                self.crawler.stats.inc_value(PAGES_EXPECTED_STAT)
                yield self._products_request(str(store.store_id), 1)

    def _products_request(self, store_id: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.products_url(store_id, page),
            callback=self.parse_products,
            errback=self.on_request_failed,
            cb_kwargs={"store_id": store_id, "page": page},
        )

    def parse_products(self, response: Response, store_id: str, page: int = 1) -> Iterable[Any]:
        document = self._json(response)
        self.crawler.stats.inc_value(PAGES_STAT)
        if page == 1:
            # Ask for the rest at once: the scheduler and politeness settings pace them.
            total = self.total_pages(document)
            if total > 1:
                self.crawler.stats.inc_value(PAGES_EXPECTED_STAT, total - 1)
            for next_page in range(2, total + 1):
                yield self._products_request(store_id, next_page)
        for record in self.product_records(document):
            yield self.price_item(record, store_id, response)

    def on_request_failed(self, failure: Failure) -> None:
        reason = describe_failure(failure)
        stats = self.crawler.stats
        stats.inc_value(FAILED_REQUESTS_STAT)
        if stats.get_value(FIRST_FAILURE_STAT) is None:
            stats.set_value(FIRST_FAILURE_STAT, reason)
        self.logger.error("request failed after retries: %s", reason)
