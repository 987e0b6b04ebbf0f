"""HTTP serving for the demo market: routing, the time machine, faults, ground truth, entry point.

One process serves every retailer: ``freshmart`` at the site root (``/api/...``, also under
``/freshmart/``), ``nextmart`` under ``/nextmart/``, ``cornershop`` under ``/cornershop/`` and
``biomarkt`` (EUR, microdata, gzip sitemaps) under ``/biomarkt/``.
Formats are rendered by per-retailer modules; this module only maps URLs to them.

Time machine (demo only): a request may carry ``X-SmartCart-Date: YYYY-MM-DD`` to see the market as
it was on that day, so backfills of past days get that day's prices. Without it the market serves
the date it was started with (default today).

Ground truth for matching: ``/_truth/products.json[?retailer=R]`` lists every retailer product with
its canonical product id (see ``catalogue.truth_records``); ``/_truth/events.json?date=D[&retailer=R]``
says what the market did that day: packs that shrank, fake promotions, stock-outs (``truth_events``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapers.demo_market import biomarkt, cornershop, freshmart, nextmart
from scrapers.demo_market.catalogue import (
    RETAILERS,
    SHRINK_DAYS,
    SHRINK_EPOCH,
    SHRINK_SHARE,
    Catalogue,
    truth_events,
    truth_records,
)
from scrapers.demo_market.freshmart import BadRequest, NotFound

READY_PREFIX = "DEMO_MARKET_READY"
DATE_HEADER = "X-SmartCart-Date"
BULK_PAGE_SIZE = 10_000  # freshmart's partner feed: what large chains give bulk consumers

ROBOTS_TXT = """User-agent: *
Allow: /api/
Allow: /nextmart/
Allow: /cornershop/
Allow: /biomarkt/
Disallow: /checkout/
Disallow: /account/
Disallow: /nextmart/checkout/
Disallow: /cornershop/cart/

Sitemap: {origin}/cornershop/sitemap.xml
Sitemap: {origin}/biomarkt/sitemap_index.xml.gz
"""

# Faults by name -> (transient: only the first request of a picked page fails, offset to spread picks)
_PAGE_FAULTS = {
    "rate_limit_every": (True, 0),
    "error_every": (True, 1),
    "slow_every": (True, 2),
    "truncate_every": (True, 3),
    "malformed_every": (False, 4),
    "missing_prices_every": (False, 5),
    "rename_every": (False, 6),
}


@dataclass(frozen=True)
class Faults:
    """Failures the market serves on request, so tests prove the crawl survives or fails loudly.

    ``unreachable_after``: after this many data pages the process exits at once (site down).
    ``<fault>_every=N``: every Nth distinct data page of a kind (in order of first request) gets it:
    ``rate_limit`` (429 + Retry-After: ``retry_after`` s), ``error`` (500), ``slow`` (answers after
    ``slow_seconds``), ``truncate`` (body cut inside its JSON) - each on the first request only, as
    transient faults are; ``malformed`` (broken JSON), ``missing_prices`` (records without a price),
    ``rename`` (the price field renamed, as after a site release) - on every request of that page.
    """

    unreachable_after: int | None = None
    rate_limit_every: int | None = None
    error_every: int | None = None
    slow_every: int | None = None
    truncate_every: int | None = None
    malformed_every: int | None = None
    missing_prices_every: int | None = None
    rename_every: int | None = None
    retry_after: int = 1
    slow_seconds: float = 2.0

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        if not spec:
            return cls()
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for part in spec.split(","):
            key, sep, raw = part.strip().partition("=")
            if not sep or key not in known:
                raise ValueError(
                    f"unknown fault {part!r}; expected e.g. 'unreachable_after=5' or 'error_every=3' "
                    f"(known: {', '.join(known)})"
                )
            values[key] = float(raw) if key == "slow_seconds" else int(raw)
        return cls(**values)


class DemoMarketServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], catalogue: Catalogue, faults: Faults):
        super().__init__(address, DemoMarketHandler)
        self.catalogue = catalogue
        self.faults = faults
        self._data_pages_served = 0
        self._page_ordinals: dict[str, int] = {}
        self._kind_counts: dict[str, int] = {}
        self._transient_done: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def page_faults(self, key: str, kind: str = "") -> list[str]:
        """Count a data page and return the faults to apply to this request of it.

        Pages are numbered per kind (a retailer's listings apart from its product pages), in the
        order of their first request, so "every Nth page" hits each kind alike."""
        faults = self.faults
        with self._lock:
            self._data_pages_served += 1
            if faults.unreachable_after is not None and self._data_pages_served > faults.unreachable_after:
                sys.stderr.write(
                    f"demo market: fault unreachable_after={faults.unreachable_after} reached, exiting\n"
                )
                sys.stderr.flush()
                os._exit(3)  # no cleanup on purpose: sockets are reset like a crashed site
            ordinal = self._page_ordinals.get(key)
            if ordinal is None:
                count = self._kind_counts[kind] = self._kind_counts.get(kind, 0) + 1
                ordinal = self._page_ordinals[key] = count
            active = []
            for name, (transient, offset) in _PAGE_FAULTS.items():
                every = getattr(faults, name)
                if not every or (ordinal + offset) % every:
                    continue
                if transient:
                    if (name, key) in self._transient_done:
                        continue
                    self._transient_done.add((name, key))
                active.append(name.removesuffix("_every"))
            return active


_NEXT_DATA_ROUTE = re.compile(r"^/nextmart/_next/data/[^/]+/browse/([^/]+)\.json$")
_DATA_BLOB = re.compile(rb'(__NEXT_DATA__" type="application/json">|application/ld\+json">)')


def _blob_start(body: bytes) -> int:
    """Where the page's main data starts: the last JSON script in HTML, the body itself in JSON."""
    matches = list(_DATA_BLOB.finditer(body))
    return matches[-1].end() if matches else 0


def _truncate(body: bytes) -> bytes:
    start = _blob_start(body)
    return body[: start + max(1, (len(body) - start) // 2)]


def _malform(body: bytes) -> bytes:
    start = _blob_start(body)
    return body[: start + 1] + b'"oops" ,' + body[start + 1 :]


class DemoMarketHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: crawlers reuse connections
    server: DemoMarketServer
    server_version = "SmartCartDemoMarket/2.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: stdout carries only the READY line and stderr must not fill a pipe

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host}:{port}'}"

    def _date(self) -> dt.date | None:
        value = self.headers.get(DATE_HEADER)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise BadRequest(f"{DATE_HEADER} must be YYYY-MM-DD, got {value!r}") from None

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        path = url.path
        if path.startswith("/freshmart/"):
            path = path.removeprefix("/freshmart")
        try:
            self._route(path, params, url)
        except BadRequest as exc:
            self._send(400, freshmart._dumps({"error": str(exc)}), "application/json")
        except NotFound as exc:
            self._send(404, freshmart._dumps({"error": str(exc)}), "application/json")

    def _route(self, path: str, params: dict[str, list[str]], url: Any) -> None:
        catalogue = self.server.catalogue
        date = self._date()
        if path == "/robots.txt":
            return self._send(
                200, ROBOTS_TXT.format(origin=self._origin()).encode(), "text/plain; charset=utf-8"
            )
        if path == "/_truth/products.json":
            retailer = params.get("retailer", [None])[0]
            if retailer is not None and retailer not in RETAILERS:
                raise NotFound(f"unknown retailer {retailer!r}; known: {', '.join(RETAILERS)}")
            body = json.dumps(
                {"products": truth_records(catalogue, retailer)}, separators=(",", ":")
            ).encode()
            return self._send(200, body, "application/json")
        if path == "/_truth/events.json":
            # What the market did on one day (X-SmartCart-Date or ?date=): the flags' ground truth.
            retailer = params.get("retailer", [None])[0]
            if retailer is not None and retailer not in RETAILERS:
                raise NotFound(f"unknown retailer {retailer!r}; known: {', '.join(RETAILERS)}")
            day = params.get("date", [None])[0]
            try:
                day = dt.date.fromisoformat(day) if day else (date or catalogue.date)
            except ValueError:
                raise BadRequest(f"date must be YYYY-MM-DD, got {day!r}") from None
            body = json.dumps(truth_events(catalogue, day, retailer), separators=(",", ":")).encode()
            return self._send(200, body, "application/json")
        if path == "/_truth/retailers.json":
            body = {
                name: {"path_prefix": p.path_prefix or "/", "display_name": p.display_name}
                for name, p in RETAILERS.items()
            }
            return self._send(200, json.dumps(body).encode(), "application/json")
        # store locators and sitemaps: never faulted
        if path == "/api/stores":
            return self._send(200, freshmart.render_stores(catalogue), "application/json")
        if path == "/nextmart/stores":
            return self._send(200, nextmart.render_stores_page(catalogue), "text/html; charset=utf-8")
        if path == "/cornershop/sitemap.xml":
            return self._send(
                200, cornershop.render_sitemap_index(catalogue, self._origin()), "application/xml"
            )
        if path == "/cornershop/sitemaps/stores.xml":
            return self._send(
                200, cornershop.render_stores_sitemap(catalogue, self._origin()), "application/xml"
            )
        if match := re.match(r"^/cornershop/sitemaps/products-(\d+)\.xml$", path):
            body = cornershop.render_products_sitemap(catalogue, self._origin(), int(match.group(1)))
            return self._send(200, body, "application/xml")
        if match := re.match(r"^/cornershop/stores/([^/]+)$", path):
            return self._send(
                200, cornershop.render_store_page(catalogue, match.group(1)), "text/html; charset=utf-8"
            )
        if path == "/biomarkt/sitemap_index.xml.gz":  # gzip files, as Magento writes them
            return self._send(
                200, biomarkt.render_sitemap_index(catalogue, self._origin()), "application/gzip"
            )
        if path == "/biomarkt/media/sitemap/stores.xml.gz":
            return self._send(
                200, biomarkt.render_stores_sitemap(catalogue, self._origin()), "application/gzip"
            )
        if match := re.match(r"^/biomarkt/media/sitemap/products-(\d+)\.xml\.gz$", path):
            body = biomarkt.render_products_sitemap(catalogue, self._origin(), int(match.group(1)))
            return self._send(200, body, "application/gzip")
        if match := re.match(r"^/biomarkt/filiale/([^/]+)$", path):
            body = biomarkt.render_store_page(catalogue, match.group(1))
            return self._send(200, body, "text/html; charset=utf-8")
        # data pages: counted, and faulted on request
        if path in ("/api/products", "/api/feed/products"):
            kind = "freshmart"
        elif path.startswith("/nextmart/browse/") or _NEXT_DATA_ROUTE.match(path):
            kind = "nextmart_listing"
        elif path.startswith("/nextmart/product/"):
            kind = "nextmart_product"
        elif path.startswith("/cornershop/products/"):
            kind = "cornershop_product"
        elif re.match(r"^/biomarkt/bm-\d+\.html$", path):
            kind = "biomarkt_product"
        else:
            raise NotFound(f"no route for {path}")
        faults = self.server.page_faults(f"{path}?{url.query}", kind)
        if "rate_limit" in faults:
            body = b'{"error":"too many requests"}'
            return self._send(
                429, body, "application/json", {"Retry-After": str(self.server.faults.retry_after)}
            )
        if "error" in faults:
            return self._send(500, b'{"error":"internal server error"}', "application/json")
        if "slow" in faults:
            time.sleep(self.server.faults.slow_seconds)
        body, content_type = self._render(kind, path, params, date, faults)
        if "truncate" in faults:
            body = _truncate(body)
        if "malformed" in faults:
            body = _malform(body)
        return self._send(200, body, content_type)

    def _render(
        self, kind: str, path: str, params: dict[str, list[str]], date: dt.date | None, faults: list[str]
    ) -> tuple[bytes, str]:
        catalogue = self.server.catalogue
        if kind == "freshmart":
            bulk = path == "/api/feed/products"
            body = freshmart.render_products(catalogue, params, date, BULK_PAGE_SIZE if bulk else None)
            if "missing_prices" in faults or "rename" in faults:
                document = json.loads(body)
                for record in document["products"]:
                    _mutate(record, "price", "currentPrice", faults)
                body = freshmart._dumps(document)
            return body, "application/json"
        if kind == "nextmart_listing":
            data_route = _NEXT_DATA_ROUTE.match(path)
            store_id = data_route.group(1) if data_route else path.removeprefix("/nextmart/browse/")
            props = nextmart.listing_props(catalogue, store_id, params, date, data_route=bool(data_route))
            for record in props["products"]:
                _mutate(record["pricing"], "now", "current", faults)
            if data_route:
                return nextmart.render_listing_data(props), "application/json"
            return nextmart.render_listing_page(props, store_id), "text/html; charset=utf-8"
        if kind == "nextmart_product":
            product_id = path.removeprefix("/nextmart/product/")
            return nextmart.render_product_page(catalogue, product_id, date), "text/html; charset=utf-8"
        if kind == "biomarkt_product":
            body = biomarkt.render_product_page(catalogue, path.removeprefix("/biomarkt/"), date)
            if "missing_prices" in faults or "rename" in faults:  # microdata: drop or rename the price
                renamed = b'itemprop="amount"' if "rename" in faults else b'itemprop="x-removed"'
                body = re.sub(
                    rb'itemprop="price"(?= content="[0-9,]+">[0-9,]+ \xe2\x82\xac</span><meta)', renamed, body
                )
            return body, "text/html; charset=utf-8"
        document = cornershop.product_document(catalogue, path.removeprefix("/cornershop/products/"), date)
        for offer in document["offers"]:
            _mutate(offer, "price", "amount", faults)
        return cornershop.render_product_page(document), "text/html; charset=utf-8"


def _mutate(record: dict[str, Any], key: str, renamed: str, faults: list[str]) -> None:
    if "missing_prices" in faults:
        record.pop(key, None)
    elif "rename" in faults and key in record:
        record[renamed] = record.pop(key)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scrapers.demo_market", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="price date (default today)")
    parser.add_argument(
        "--shrink-share", type=float, default=SHRINK_SHARE, help="share of packs that shrink once"
    )
    parser.add_argument(
        "--shrink-from", type=dt.date.fromisoformat, default=SHRINK_EPOCH, help="first possible shrink day"
    )
    parser.add_argument(
        "--shrink-days", type=int, default=SHRINK_DAYS, help="days over which shrink days spread"
    )
    parser.add_argument(
        "--faults", default=None, help="e.g. unreachable_after=5 or error_every=3,rate_limit_every=4"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    catalogue = Catalogue(
        seed=args.seed, products=args.products, stores=args.stores, date=args.date,
        shrink_share=args.shrink_share, shrink_from=args.shrink_from, shrink_days=args.shrink_days,
    )  # fmt: skip
    server = DemoMarketServer((args.host, args.port), catalogue, Faults.parse(args.faults))

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    host, port = server.server_address[:2]
    print(f"{READY_PREFIX} http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
