"""`smartcart retailers check` and run-time registration, over real HTTP against a test shop.

The test shop serves the platform-shaped pages of tests/scrapers/data/platforms/ behind a
robots.txt ``Sitemap:`` line, a gzip sitemap index file and a gzip content-encoded sitemap.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from scrapers.crawl import run_crawl_subprocess
from scrapers.retailers_cli import check_target
from warehouse.domain.landing import read_copy_text

PLATFORMS = Path(__file__).resolve().parents[1] / "data" / "platforms"
REPO = Path(__file__).resolve().parents[3]
PAGES = sorted(p.stem for p in PLATFORMS.glob("*.html"))
AMBIGUOUS = (
    '<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"Product",'
    '"name":"Olive oil 5 l","sku":"OIL-5","offers":{"@type":"Offer","price":"1.234","priceCurrency":"EUR","availability":"InStock"}}'
    "</script></head></html>"
)
CATEGORY = "<html><head><title>All cheeses</title></head><body><a href='/p/x'>x</a></body></html>"


def _sitemap(urls: list[tuple[str, str]], index: bool = False) -> bytes:
    tag, inner = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    entries = "".join(f"<{inner}><loc>{u}</loc><lastmod>{m}</lastmod></{inner}>" for u, m in urls)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</{tag}>"
    ).encode()


@pytest.fixture(scope="module")
def shop():
    routes: dict[str, tuple[bytes, str, dict[str, str]]] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    pages = [(f"{origin}/p/{name}", "2026-11-20") for name in PAGES]
    pages += [(f"{origin}/p/ambiguous", "2026-11-20"), (f"{origin}/p/category", "2026-11-20")]
    for name in PAGES:
        routes[f"/p/{name}"] = ((PLATFORMS / f"{name}.html").read_bytes(), "text/html; charset=utf-8", {})
    routes["/p/ambiguous"] = (AMBIGUOUS.encode(), "text/html; charset=utf-8", {})
    routes["/p/category"] = (CATEGORY.encode(), "text/html; charset=utf-8", {})
    routes["/p/stale"] = (AMBIGUOUS.encode(), "text/html; charset=utf-8", {})
    routes["/robots.txt"] = (f"User-agent: *\nAllow: /\nSitemap: {origin}/sitemap_index.xml.gz\n".encode(),
                             "text/plain", {})  # fmt: skip
    index = _sitemap([(f"{origin}/sitemaps/products.xml", "2026-11-20"),
                      (f"{origin}/sitemaps/archive.xml", "2019-01-01")], index=True)  # fmt: skip
    routes["/sitemap_index.xml.gz"] = (gzip.compress(index), "application/gzip", {})  # a .gz file
    routes["/sitemaps/products.xml"] = (  # gzip as content encoding
        gzip.compress(_sitemap(pages)),
        "application/xml",
        {"Content-Encoding": "gzip"},
    )
    routes["/sitemaps/archive.xml"] = (_sitemap([(f"{origin}/p/stale", "2019-01-01")]), "application/xml", {})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            body, kind, headers = routes.get(self.path.split("?")[0], (b"not found", "text/plain", {}))
            self.send_response(200 if self.path.split("?")[0] in routes else 404)
            self.send_header("Content-Type", kind)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield origin
    server.shutdown()
    server.server_close()


def _expected() -> dict[str, dict]:
    rows = {}
    for name in PAGES:
        for row in json.loads((PLATFORMS / f"{name}.expected.json").read_text()):
            rows[row["retailer_product_id"]] = row
    return rows


def _same(found: dict, expected: dict) -> None:
    for key in (
        "product_name",
        "brand",
        "gtin",
        "currency",
        "in_stock",
        "pack_count",
        "package_unit",
        "store_id",
    ):
        assert found[key] == expected[key], (key, found, expected)
    for key in ("price", "was_price", "package_quantity"):
        got, want = found[key], expected[key]
        assert (got is None and want is None) or Decimal(got) == Decimal(want), (key, found, expected)


@pytest.mark.integration
def test_check_a_shop_by_url_through_robots_txt_and_gzip_sitemaps(shop):
    result = check_target(f"{shop}/robots.txt", currency="EUR", pages=50)
    expected = _expected()
    found = {row["retailer_product_id"]: row for row in result["observations"]}
    assert set(found) == set(expected)  # every platform shape read; the stale archive page too
    for sku, row in expected.items():
        _same(found[sku], row)
    reasons = {r["url"].rsplit("/", 1)[-1]: r["reason"] for r in result["rejects"]}
    assert "ambiguous price '1.234'" in reasons["ambiguous"]  # no locale: quarantined, not guessed
    assert reasons["category"] == "page: no schema.org Product or Store data in the page"
    assert result["pages"] >= len(PAGES) + 2


@pytest.mark.integration
def test_check_with_a_locale_reads_the_ambiguous_price_and_respects_the_page_limit(shop):
    result = check_target(f"{shop}/", currency="EUR", locale="de_DE", pages=3)
    assert len({row["source_url"] for row in result["observations"]}) <= 3
    everything = check_target(f"{shop}/", currency="EUR", locale="de_DE", pages=50)
    oil = next(r for r in everything["observations"] if r["retailer_product_id"] == "OIL-5")
    assert Decimal(oil["price"]) == Decimal("1234") and (oil["package_quantity"], oil["package_unit"]) == (
        "5.0000",
        "l",
    )


@pytest.mark.integration
def test_a_shop_registered_at_run_time_is_one_file_and_crawls_incrementally(shop, tmp_path, monkeypatch):
    folder = tmp_path / "registry"
    folder.mkdir()
    (folder / "test_shop.yaml").write_text(
        yaml.safe_dump({"format": "schema_org_sitemap", "site_url": shop, "currency": "EUR",
                        "locale": "de_DE", "country": "DE", "politeness": {"DOWNLOAD_DELAY": 0}}),
        encoding="utf-8",
    )  # fmt: skip
    monkeypatch.setenv("SMARTCART_RETAILERS_DIR", str(folder))
    listed = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "retailers", "list", "--json"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ), check=True,
    )  # fmt: skip
    assert "test_shop" in {row["name"] for row in json.loads(listed.stdout)}
    landing = run_crawl_subprocess(
        "test_shop", shop, dt.date(2026, 11, 22), "rt-1", tmp_path / "landing",
        spider_args={"modified_since": "2026-01-01"},
    )  # fmt: skip
    assert landing.succeeded, landing.stats["message"]
    rows = read_copy_text(landing.price_observations_path)
    skus = {r["retailer_product_id"] for r in rows}
    assert set(_expected()) <= skus and "OIL-5" in skus  # de_DE: "1.234" is 1234
    assert all(r["source_url"] != f"{shop}/p/stale" for r in rows)  # lastmod 2019: skipped
    assert landing.stats["pages_quarantined"] == 1  # the category page; the crawl still loaded


@pytest.mark.integration
@pytest.mark.slow
def test_check_cli_json_shape_and_exit_codes(shop):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "retailers", "check", *args],
            capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=300,
        )  # fmt: skip

    ok = run(f"{shop}/sitemap_index.xml.gz", "--currency", "EUR", "--pages", "4", "--json")
    assert ok.returncode == 0, ok.stderr
    document = json.loads(ok.stdout)
    assert set(document) == {"observations", "rejects", "pages"} and document["observations"]
    assert all({"url", "reason"} == set(r) for r in document["rejects"])
    assert run(f"{shop}/p/{PAGES[0]}.html", "--json").returncode == 2  # no sitemap
    assert run("http://127.0.0.1:9/sitemap.xml", "--currency", "EUR").returncode == 2  # unreachable
    assert run("no_such_shop").returncode == 2
    assert run(f"{shop}/", "--currency", "EURO").returncode == 2


@pytest.mark.integration
@pytest.mark.parametrize(
    ("retailer", "currency"), [("biomarkt", "EUR"), ("cornershop", "AUD"), ("freshmart", "AUD")]
)
def test_check_demo_market_retailers_by_name(retailer, currency, monkeypatch):
    from scrapers.demo_market import launch

    with launch(seed=42, products=40, stores=2, date=dt.date.today()) as market:
        monkeypatch.setenv("SMARTCART_MARKET_URL", market.base_url)
        result = check_target(retailer, pages=4)
    assert result["observations"] and result["pages"] >= 1
    assert {row["currency"] for row in result["observations"]} == {currency}
    assert all(Decimal(row["price"]) > 0 for row in result["observations"])
    if retailer != "freshmart":  # sitemap shops stop at exactly N pages; JSON APIs via CLOSESPIDER_PAGECOUNT
        assert len({row["source_url"] for row in result["observations"]}) <= 4
