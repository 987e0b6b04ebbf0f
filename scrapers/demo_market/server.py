"""HTTP serving for the demo market: routing, faults, and the process entry point.

Formats are rendered by per-retailer modules (``freshmart``); this module only maps URLs to them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from scrapers.demo_market import freshmart
from scrapers.demo_market.catalogue import Catalogue

READY_PREFIX = "DEMO_MARKET_READY"


@dataclass(frozen=True)
class Faults:
    """Failures the market can simulate so tests can prove a crawl fails loudly.

    ``unreachable_after``: after serving this many product pages the market process exits at once;
    in-flight connections are reset and later ones refused, as when a site goes down mid-crawl.
    """

    unreachable_after: int | None = None

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        if not spec:
            return cls()
        values: dict[str, int] = {}
        for part in spec.split(","):
            key, sep, raw = part.strip().partition("=")
            if not sep or key not in {"unreachable_after"}:
                raise ValueError(f"unknown fault {part!r}; expected e.g. 'unreachable_after=5'")
            values[key] = int(raw)
        return cls(**values)


class DemoMarketServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], catalogue: Catalogue, faults: Faults):
        super().__init__(address, DemoMarketHandler)
        self.catalogue = catalogue
        self.faults = faults
        self._product_pages_served = 0
        self._lock = threading.Lock()

    def count_product_page(self) -> None:
        """Count a product page and die if the configured fault says so."""
        limit = self.faults.unreachable_after
        if limit is None:
            return
        with self._lock:
            self._product_pages_served += 1
            if self._product_pages_served > limit:
                sys.stderr.write(f"demo market: fault unreachable_after={limit} reached, exiting\n")
                sys.stderr.flush()
                os._exit(3)  # no cleanup on purpose: sockets are reset like a crashed site


class DemoMarketHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: crawlers reuse connections
    server: DemoMarketServer
    server_version = "FreshMartDemo/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: stdout carries only the READY line and stderr must not fill a pipe

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        catalogue = self.server.catalogue
        try:
            if url.path == "/robots.txt":
                self._send(200, freshmart.ROBOTS_TXT, "text/plain; charset=utf-8")
            elif url.path == "/api/stores":
                self._send(200, freshmart.render_stores(catalogue), "application/json")
            elif url.path == "/api/products":
                self.server.count_product_page()
                self._send(200, freshmart.render_products(catalogue, params), "application/json")
            else:
                raise freshmart.NotFound(f"no route for {url.path}")
        except freshmart.BadRequest as exc:
            self._send(400, freshmart._dumps({"error": str(exc)}), "application/json")
        except freshmart.NotFound as exc:
            self._send(404, freshmart._dumps({"error": str(exc)}), "application/json")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scrapers.demo_market", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="price date (default today)")
    parser.add_argument("--faults", default=None, help="e.g. unreachable_after=5")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    catalogue = Catalogue(seed=args.seed, products=args.products, stores=args.stores, date=args.date)
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
