"""Base classes for retailer spiders: one per site format, configured per retailer by data.

A retailer spider declares data: ``name``/``retailer``, ``currency``, URL paths, field maps from
the source's keys (dotted paths such as ``pricing.now``) to ``scrapers.items`` fields, and
``politeness`` settings. Behaviour lives here:

- ``RetailerSpider``: arguments, provenance, field mapping (a mapped key missing from a record -
  a site renaming a field - quarantines the item with that reason), JSON that fails to parse is
  re-fetched and, if still broken, the page is quarantined; failed requests are counted.
- ``PagedJsonApiSpider``: a paged JSON search/browse API (freshmart).
- ``NextDataSpider``: a Next.js site: ``__NEXT_DATA__`` listings + JSON-LD product pages (nextmart).
- ``SitemapJsonLdSpider``: any shop with sitemaps and schema.org JSON-LD, microdata or RDFa
  (cornershop and every shop registered as ``schema_org_sitemap``).

Spiders yield raw values; pipelines clean them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy import exceptions as scrapy_exceptions
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.spiders import SitemapSpider
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from scrapers.items import ItemBatch, PriceObservation, RejectedPage, Store
from scrapers.structured_data import SchemaOffer, StructuredDataError, extract_page
from warehouse.domain.landing import source_for

FAILED_REQUESTS_STAT = "smartcart/request_failures"
FIRST_FAILURE_STAT = "smartcart/first_failure"
PAGES_STAT = "smartcart/pages"
PAGES_EXPECTED_STAT = "smartcart/pages_expected"
PARSE_RETRIES_STAT = "smartcart/parse_retries"
PAGES_QUARANTINED_STAT = "smartcart/pages_quarantined"
MAX_PARSE_RETRIES = 2
DATE_HEADER = "X-SmartCart-Date"  # the demo market's time machine; real sites ignore it
_ABSENT = object()


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


def lookup(record: Any, path: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"``; ``_ABSENT`` when a key along the way does not exist."""
    value = record
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def body_start(response: Response) -> str:
    """The first 2000 characters of a page kept with its reject (binary bodies decoded loosely)."""
    try:
        return response.text[:2000]
    except AttributeError:  # not a TextResponse (a gzip body, an image)
        return response.body[:2000].decode("utf-8", "replace")


class PageParseError(ValueError):
    """A page's data could not be read (malformed or truncated JSON, no data block)."""


class RetailerSpider(scrapy.Spider):
    retailer: ClassVar[str]
    currency: ClassVar[str]
    # items field -> source key (dotted path)
    store_field_map: ClassVar[dict[str, str]] = {}
    product_field_map: ClassVar[dict[str, str]] = {}
    # source keys whose absence means the site changed (the item is quarantined, not guessed)
    required_source_fields: ClassVar[tuple[str, ...]] = ("retailer_product_id", "price")
    locale: ClassVar[str | None] = None  # CLDR locale of the site's numbers (registry entry)
    decimal_separator: ClassVar[str | None] = None
    politeness: ClassVar[dict[str, Any]] = {}
    time_machine: ClassVar[bool] = True  # send DATE_HEADER (the demo market honours it)

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
        settings.set("SMARTCART_PRICE_LOCALE", cls.locale, priority="spider")
        settings.set("SMARTCART_DECIMAL_SEPARATOR", cls.decimal_separator, priority="spider")

    # requests -----------------------------------------------------------------
    def request(self, url: str, callback: Any, count: bool = True, **kwargs: Any) -> scrapy.Request:
        """A request with our errback (and the demo time machine header); counted as an expected page."""
        if count:
            self.crawler.stats.inc_value(PAGES_EXPECTED_STAT)
        headers = kwargs.pop("headers", {}) or {}
        if self.time_machine:
            headers[DATE_HEADER] = self.scrape_date.isoformat()
        return scrapy.Request(
            url, callback=callback, errback=self.on_request_failed, headers=headers, **kwargs
        )

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def on_request_failed(self, failure: Failure) -> None:
        reason = describe_failure(failure)
        stats = self.crawler.stats
        stats.inc_value(FAILED_REQUESTS_STAT)
        if stats.get_value(FIRST_FAILURE_STAT) is None:
            stats.set_value(FIRST_FAILURE_STAT, reason)
        self.logger.error("request failed after retries: %s", reason)

    def emit(self, items: list[Any], closes_scope: str | None = None) -> Iterator[Any]:
        """A page's items: as one ``ItemBatch`` when ``SMARTCART_ITEM_BATCHES`` is on (crawls), else one
        by one. ``closes_scope``: this page completes that store's listing (see DedupePipeline)."""
        if self.settings.getbool("SMARTCART_ITEM_BATCHES"):
            if items or closes_scope:
                yield ItemBatch(items, closes_scope=closes_scope)
        else:
            yield from items

    # parsing helpers ----------------------------------------------------------
    def parse_json_text(self, text: str | bytes, what: str) -> Any:
        try:
            return json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PageParseError(f"{what} is not valid JSON ({exc.__class__.__name__}: {exc})") from None

    def unreadable_page(self, response: Response, error: PageParseError) -> Iterator[Any]:
        """Re-fetch a page whose data did not parse (truncated bodies are usually transient);
        after ``MAX_PARSE_RETRIES`` quarantine it with its reason. Yields a request or a reject."""
        attempt = response.meta.get("parse_retries", 0)
        stats = self.crawler.stats
        if attempt < MAX_PARSE_RETRIES and response.request is not None:
            stats.inc_value(PARSE_RETRIES_STAT)
            self.logger.warning("re-fetching %s (attempt %d): %s", response.url, attempt + 2, error)
            yield response.request.replace(
                dont_filter=True, meta={**response.meta, "parse_retries": attempt + 1}
            )
            return
        stats.inc_value(PAGES_STAT)
        stats.inc_value(PAGES_QUARANTINED_STAT)
        payload = {"url": response.url, "status": response.status, "body_start": body_start(response)}
        page = RejectedPage(**self._provenance(response, None, payload))
        page.reject(f"unreadable page after {attempt + 1} fetches: {error}")
        yield page

    def _provenance(self, response: Response, store_id: Any, record: dict[str, Any]) -> dict[str, Any]:
        if getattr(self, "_fetched_for", None) is not response:  # one timestamp per response
            self._fetched_for, self._fetched_at = response, dt.datetime.now(dt.UTC)
        return {
            "retailer": self.retailer,
            "store_id": store_id,
            "scrape_date": self.scrape_date,
            "fetched_at": self._fetched_at,
            "source": source_for(self.retailer),
            "source_url": response.url,
            "run_id": self.run_id,
            "raw_payload": record,
        }

    def map_fields(
        self, record: dict[str, Any], field_map: dict[str, str]
    ) -> tuple[dict[str, Any], list[str]]:
        """Fields by the map, and the required source keys the record lacks (renamed by the site?)."""
        fields, absent = {}, []
        for name, path in field_map.items():
            # plain keys are the common case: one dict lookup, no path walk
            value = record.get(path, _ABSENT) if "." not in path else lookup(record, path)
            if value is _ABSENT:
                value = None
                if name in self.required_source_fields:
                    absent.append(path)
            fields[name] = value
        return fields, absent

    def store_item(self, record: dict[str, Any], response: Response) -> Store:
        fields, _ = self.map_fields(record, self.store_field_map)
        store_id = fields.pop("store_id", None)
        return Store(**self._provenance(response, store_id, record), **fields)

    def price_item(
        self, record: dict[str, Any], store_id: str, response: Response, **extra: Any
    ) -> PriceObservation:
        fields, absent = self.map_fields(record, self.product_field_map)
        fields.update(extra)
        fields.setdefault("currency", self.currency)
        item = PriceObservation(**self._provenance(response, store_id, record), **fields)
        if absent:
            item.reject(
                f"source field{'s' if len(absent) > 1 else ''} {', '.join(absent)} absent from the record "
                f"(renamed or removed by the site?); record keys: {', '.join(sorted(record))}"
            )
        return item


class PagedJsonApiSpider(RetailerSpider):
    """A paged JSON search/browse API: a stores list, then product pages per store."""

    stores_path: ClassVar[str] = "/api/stores"
    products_path: ClassVar[str] = "/api/products"
    page_size: ClassVar[int] = 100
    stores_key: ClassVar[str] = "stores"
    products_key: ClassVar[str] = "products"
    total_pages_key: ClassVar[str] = "totalPages"

    def __init__(self, *args: Any, page_size: int | str | None = None, products_path: str | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(*args, **kwargs)
        # Per-crawl overrides (e.g. a chain's bulk feed: -a products_path=/api/feed/products -a page_size=5000)
        if page_size:
            self.page_size = int(page_size)
        if products_path:
            self.products_path = products_path

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

    # crawl --------------------------------------------------------------------
    def start_requests(self) -> Iterator[scrapy.Request]:
        yield self.request(self.stores_url(), self.parse_stores, count=False)

    def _json(self, response: Response) -> Any:
        return self.parse_json_text(response.body, f"page {response.url}")

    def parse_stores(self, response: Response) -> Iterable[Any]:
        try:
            document = self._json(response)
        except PageParseError as error:
            yield from self.unreadable_page(response, error)
            return
        self.crawler.stats.inc_value(PAGES_STAT)
        for record in self.store_records(document):
            store = self.store_item(record, response)
            yield store
            if store.store_id:
                yield self._products_request(str(store.store_id), 1)

    def _products_request(self, store_id: str, page: int) -> scrapy.Request:
        return self.request(
            self.products_url(store_id, page),
            self.parse_products,
            cb_kwargs={"store_id": store_id, "page": page},
        )

    def parse_products(self, response: Response, store_id: str, page: int = 1) -> Iterable[Any]:
        try:
            document = self._json(response)
            total = self.total_pages(document) if page == 1 else 0
            records = self.product_records(document)
        except (PageParseError, KeyError, TypeError, ValueError) as error:
            if not isinstance(error, PageParseError):
                error = PageParseError(f"page {response.url} lacks its listing keys ({error!r})")
            yield from self.unreadable_page(response, error)
            return
        self.crawler.stats.inc_value(PAGES_STAT)
        # Ask for the rest at once: the scheduler and politeness settings pace them.
        for next_page in range(2, total + 1):
            yield self._products_request(store_id, next_page)
        pages_left = getattr(self, "_pages_left", None)
        if pages_left is None:
            pages_left = self._pages_left = {}
        if page == 1:
            pages_left[store_id] = pages_left.get(store_id, 0) + total
        pages_left[store_id] = pages_left.get(store_id, 0) - 1
        done = pages_left[store_id] == 0
        items = [self.price_item(record, store_id, response) for record in records]
        yield from self.emit(items, closes_scope=store_id if done else None)


_NEXT_DATA = re.compile(r'<script id="__NEXT_DATA__" type="application/json"[^>]*>(.*?)</script>', re.S)
_JSON_LD = re.compile(r'<script[^>]+type="application/ld\+json"[^>]*>(.*?)</script>', re.S | re.I)
_JSON_LD_OPEN = re.compile(r'<script[^>]+type="application/ld\+json"', re.I)


def next_data(text: str) -> dict[str, Any]:
    """The ``__NEXT_DATA__`` document of a Next.js page."""
    match = _NEXT_DATA.search(text)
    if not match:
        raise PageParseError("no complete __NEXT_DATA__ script in the page")
    try:
        return json.loads(match.group(1))
    except json.JSONDecodeError as exc:
        raise PageParseError(f"__NEXT_DATA__ is not valid JSON ({exc})") from None


def json_ld_documents(text: str) -> list[dict[str, Any]]:
    """Every schema.org object in the page's JSON-LD scripts (``@graph`` and lists flattened)."""
    documents: list[dict[str, Any]] = []
    scripts = _JSON_LD.findall(text)
    if len(_JSON_LD_OPEN.findall(text)) > len(scripts):
        raise PageParseError("a JSON-LD script is not closed (truncated page?)")
    for script in scripts:
        try:
            value = json.loads(script)
        except json.JSONDecodeError as exc:
            raise PageParseError(f"JSON-LD is not valid JSON ({exc})") from None
        stack = value if isinstance(value, list) else [value]
        for node in stack:
            if isinstance(node, dict):
                documents.append(node)
                documents.extend(n for n in node.get("@graph", []) if isinstance(n, dict))
    return documents


def schema_types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    return {t.rsplit("/", 1)[-1] for t in ([value] if isinstance(value, str) else value)}


GTIN_KEYS = ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean")


def json_ld_gtin(product: dict[str, Any]) -> str | None:
    return next((str(product[k]) for k in GTIN_KEYS if product.get(k)), None)


class NextDataSpider(RetailerSpider):
    """A Next.js storefront: a store locator page, per-store listing pages (``__NEXT_DATA__``,
    or the ``/_next/data/<buildId>/...json`` route with the same props), product pages with
    JSON-LD for the barcode. A product's observations wait for its product page (fetched once
    per run, whichever branch lists it first), so every observation carries the barcode."""

    stores_path: ClassVar[str] = "/stores"
    stores_props_key: ClassVar[str] = "stores"
    listing_path: ClassVar[str] = "/browse/{store_id}"
    data_listing_path: ClassVar[str] = "/_next/data/{build_id}/browse/{store_id}.json"
    product_path: ClassVar[str] = "/product/{product_id}"
    products_props_key: ClassVar[str] = "products"
    total_pages_path: ClassVar[str] = "pagination.totalPages"
    page_size: ClassVar[int] = 48
    use_data_route: ClassVar[bool] = False

    def __init__(self, *args: Any, page_size: int | str | None = None, data_route: str | bool | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(*args, **kwargs)
        if page_size:
            self.page_size = int(page_size)
        if data_route is not None:
            self.use_data_route = str(data_route).lower() in ("1", "true", "yes")
        self.build_id: str | None = None
        self._gtins: dict[str, str | None] = {}  # product id -> barcode, once its page was read
        self._waiting: dict[str, list[tuple[dict[str, Any], str, Response]]] = {}

    def start_requests(self) -> Iterator[scrapy.Request]:
        yield self.request(f"{self.base_url}{self.stores_path}", self.parse_stores, count=False)

    def listing_url(self, store_id: str, page: int) -> str:
        query = urlencode({"page": page, "pageSize": self.page_size})
        if self.use_data_route and self.build_id:
            return f"{self.base_url}{self.data_listing_path.format(build_id=self.build_id, store_id=store_id)}?{query}"
        return f"{self.base_url}{self.listing_path.format(store_id=store_id)}?{query}"

    def parse_stores(self, response: Response) -> Iterable[Any]:
        try:
            document = next_data(response.text)
            records = document["props"]["pageProps"][self.stores_props_key]
        except (PageParseError, KeyError, TypeError) as error:
            yield from self.unreadable_page(
                response, error if isinstance(error, PageParseError) else PageParseError(repr(error))
            )
            return
        self.build_id = document.get("buildId")
        self.crawler.stats.inc_value(PAGES_STAT)
        for record in records:
            store = self.store_item(record, response)
            yield store
            if store.store_id:
                yield self._listing_request(str(store.store_id), 1)

    def _listing_request(self, store_id: str, page: int) -> scrapy.Request:
        return self.request(
            self.listing_url(store_id, page),
            self.parse_listing,
            cb_kwargs={"store_id": store_id, "page": page},
        )

    def parse_listing(self, response: Response, store_id: str, page: int = 1) -> Iterable[Any]:
        try:
            if response.url.split("?")[0].endswith(".json"):
                props = self.parse_json_text(response.body, f"page {response.url}")["pageProps"]
            else:
                props = next_data(response.text)["props"]["pageProps"]
            records = props[self.products_props_key]
            total = int(lookup(props, self.total_pages_path)) if page == 1 else 0
        except (PageParseError, KeyError, TypeError, ValueError) as error:
            if not isinstance(error, PageParseError):
                error = PageParseError(f"page {response.url} lacks its listing keys ({error!r})")
            yield from self.unreadable_page(response, error)
            return
        self.crawler.stats.inc_value(PAGES_STAT)
        for next_page in range(2, total + 1):
            yield self._listing_request(store_id, next_page)
        ready = []
        for record in records:
            product_id = lookup(record, self.product_field_map["retailer_product_id"])
            if product_id is _ABSENT or product_id is None:
                ready.append(self.price_item(record, store_id, response))  # quarantined by its missing id
            elif str(product_id) in self._gtins:
                ready.append(self.price_item(record, store_id, response, gtin=self._gtins[str(product_id)]))
            else:
                waiting = self._waiting.setdefault(str(product_id), [])
                waiting.append((record, store_id, response))
                if len(waiting) == 1:
                    url = f"{self.base_url}{self.product_path.format(product_id=product_id)}"
                    yield self.request(url, self.parse_product, cb_kwargs={"product_id": str(product_id)})
        yield from self.emit(ready)

    def request(self, url: str, callback: Any, count: bool = True, **kwargs: Any) -> scrapy.Request:
        kwargs.pop("errback", None)
        request = super().request(url, callback, count, **kwargs)
        if callback == self.parse_product:
            request = request.replace(errback=self.on_product_failed)
        return request

    def parse_product(self, response: Response, product_id: str) -> Iterable[Any]:
        try:
            products = [d for d in json_ld_documents(response.text) if "Product" in schema_types(d)]
        except PageParseError as error:
            if response.meta.get("parse_retries", 0) < MAX_PARSE_RETRIES:
                yield from self.unreadable_page(response, error)
                return
            self.logger.warning(
                "product page %s unreadable (%s): its prices land without a barcode", response.url, error
            )
            products = []
        self.crawler.stats.inc_value(PAGES_STAT)
        gtin = json_ld_gtin(products[0]) if products else None
        yield from self._release(product_id, gtin)

    def on_product_failed(self, failure: Failure) -> Iterable[Any]:
        self.on_request_failed(failure)
        product_id = failure.request.cb_kwargs["product_id"]
        yield from self._release(product_id, None)

    def _release(self, product_id: str, gtin: str | None) -> Iterator[Any]:
        self._gtins[product_id] = gtin
        waiting = self._waiting.pop(product_id, [])
        yield from self.emit(
            [self.price_item(record, store_id, listing, gtin=gtin) for record, store_id, listing in waiting]
        )


class SitemapJsonLdSpider(RetailerSpider, SitemapSpider):
    """Any schema.org shop: found through its sitemaps, read through extruct.

    ``base_url`` is a sitemap (``.xml``, ``.xml.gz``, an index), the site's ``robots.txt`` (its
    ``Sitemap:`` lines) or the site root (robots.txt, else ``/sitemap.xml``). Scrapy's
    ``SitemapSpider`` machinery reads them: indexes, gzip files and gzip content encoding,
    ``sitemap_follow`` (sub-sitemaps to follow), ``page_filter`` (pages to fetch) and, for
    incremental crawls, ``modified_since`` (skip entries whose ``lastmod`` is older).

    Pages are read by ``scrapers.structured_data`` (JSON-LD, microdata, RDFa). Store pages
    (``GroceryStore``/``Store``/``LocalBusiness`` with ``branchCode``) become stores; every offer of
    every ``Product`` (or ``ProductGroup`` variant) one observation - per branch when the offer
    names its place (``availableAtOrFrom``), else for the shop's single ``online`` store.
    """

    sitemap_follow: ClassVar[Any] = [""]  # regexes of sub-sitemaps to follow ("" = all)
    page_filter: ClassVar[str] = ""  # regex: only fetch pages matching it ("" = all)
    online_store_id: ClassVar[str] = "online"
    modified_since_days: ClassVar[int | None] = None  # registry: only pages changed in the last N days
    required_source_fields = ("retailer_product_id", "price")
    # item field -> key of the flat record of ``scrapers.structured_data.SchemaOffer``
    product_field_map: ClassVar[dict[str, str]] = {
        "retailer_product_id": "sku",
        "product_name": "name",
        "brand": "brand",
        "category_path": "category",
        "gtin": "gtin",
        "package_size_text": "size",
        "price": "price",
        "was_price": "was_price",
        "unit_price_text": "unit_price_text",
        "currency": "currency",
        "in_stock": "in_stock",
    }
    store_field_map: ClassVar[dict[str, str]] = {
        "store_id": "branchCode",
        "store_name": "name",
        "address": "address.streetAddress",
        "postcode": "address.postalCode",
        "region": "address.addressRegion",
        "latitude": "geo.latitude",
        "longitude": "geo.longitude",
    }

    def __init__(self, *args: Any, modified_since: str | dt.date | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        follow = self.sitemap_follow if isinstance(self.sitemap_follow, list) else [self.sitemap_follow]
        self._follow = [re.compile(pattern) for pattern in follow]
        self._cbs = [(re.compile(self.page_filter), self.parse_page)]
        self._online_store_emitted = False
        if modified_since:
            self.modified_since: dt.date | None = (
                modified_since
                if isinstance(modified_since, dt.date)
                else dt.date.fromisoformat(modified_since)
            )
        elif self.modified_since_days is not None:
            self.modified_since = self.scrape_date - dt.timedelta(days=int(self.modified_since_days))
        else:
            self.modified_since = None

    def sitemap_url(self) -> str:
        path = urlsplit(self.base_url).path
        return self.base_url if path not in ("", "/") else f"{self.base_url}/robots.txt"

    def start_requests(self) -> Iterator[scrapy.Request]:
        yield self.request(self.sitemap_url(), self.parse_sitemap, count=False)

    def parse_sitemap(self, response: Response) -> Iterable[Any]:
        """One sitemap, index or robots.txt, through ``SitemapSpider._parse_sitemap``; its requests
        are re-issued through ``request`` (errback, page accounting, time machine)."""
        if response.url.endswith("/robots.txt"):
            self.crawler.stats.inc_value(PAGES_STAT)
            found = list(sitemap_urls_from_robots(response.text, base_url=response.url))
            for url in found or [response.urljoin("/sitemap.xml")]:
                yield self.request(url, self.parse_sitemap)
            return
        body = self._get_sitemap_body(response)
        if body is None:
            yield from self.unreadable_page(
                response, PageParseError(f"{response.url} is no sitemap (neither XML nor gzipped XML)")
            )
            return
        try:
            Sitemap(body)
        except Exception as error:  # lxml raises several kinds
            yield from self.unreadable_page(response, PageParseError(f"sitemap is not valid XML ({error})"))
            return
        self.crawler.stats.inc_value(PAGES_STAT)
        for request in SitemapSpider._parse_sitemap(self, response):
            callback = self.parse_sitemap if request.callback == self._parse_sitemap else request.callback
            yield self.request(request.url, callback)

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Drop entries whose ``lastmod`` is older than ``modified_since`` (incremental crawls)."""
        for entry in entries:
            lastmod = entry.get("lastmod")
            if self.modified_since and lastmod:
                try:
                    changed = dt.date.fromisoformat(str(lastmod).strip()[:10])
                except ValueError:
                    changed = None  # an unreadable lastmod: fetch rather than miss a change
                if changed is not None and changed < self.modified_since:
                    self.crawler.stats.inc_value("smartcart/sitemap_unchanged")
                    continue
            yield entry

    def parse_page(self, response: Response) -> Iterable[Any]:
        try:
            stores, offers = extract_page(response.body, response.url)
        except StructuredDataError as error:
            yield from self.unreadable_page(response, PageParseError(str(error)))
            return
        self.crawler.stats.inc_value(PAGES_STAT)
        items: list[Any] = [self.store_item(store.node, response) for store in stores]
        for offer in offers:
            items.extend(self.offer_items(offer, response))
        if not items:
            # A page with no product or store data is unexpected (a category page, a redesign):
            # quarantined with its reason, the crawl goes on.
            items.append(self.rejected_page(response, "no schema.org Product or Store data in the page"))
        yield from self.emit(items)

    def offer_items(self, offer: SchemaOffer, response: Response) -> Iterator[Any]:
        store_id = offer.store_ref
        if not store_id:
            store_id = self.online_store_id
            if not self._online_store_emitted:
                self._online_store_emitted = True
                yield Store(**self._provenance(response, store_id, {"online": True}),
                            store_name=f"{self.retailer} online")  # fmt: skip
        item = self.price_item(offer.as_record(), str(store_id), response)
        if item.currency is None:
            item.currency = self.currency
        if not item.reject_reason and offer.sku is None:
            item.reject("no sku or productID on the product or its offer")
        elif not item.reject_reason and offer.price in (None, ""):
            item.reject(
                "no price in the product's offers (looked at price, priceSpecification, AggregateOffer)"
            )
        yield item

    def rejected_page(self, response: Response, reason: str) -> RejectedPage:
        self.crawler.stats.inc_value(PAGES_QUARANTINED_STAT)
        payload = {"url": response.url, "status": response.status, "body_start": body_start(response)}
        page = RejectedPage(**self._provenance(response, None, payload))
        page.reject(reason)
        return page


SchemaOrgSitemapSpider = SitemapJsonLdSpider  # the name the registry's format suggests
