"""The optimizer HTTP service over real HTTP (uvicorn on a free port) against a real catalog."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest
import uvicorn

from optimizer.catalog import APP_ROLE
from optimizer.service.app import create_app

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def api(mini_catalog, warehouse_settings):
    app = create_app(warehouse_settings.database_url("catalog", APP_ROLE), cache_ttl_seconds=600)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def call(url: str, body=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def call_until_hit(url: str, body):
    """The cache is written just after the response is sent: allow it a moment."""
    deadline = time.monotonic() + 5
    while True:
        status, response, headers = call(url, body)
        if headers.get("x-smartcart-cache") == "hit" or time.monotonic() > deadline:
            return status, response, headers
        time.sleep(0.05)


BASKET = {
    "items": [
        {"product_key": "opt-milk", "quantity": 2},
        {"product_key": "opt-cheddar"},
        {"product_key": "opt-eggs"},
    ],
    "postcode": "3000",
    "radius_km": 10,
    "max_stores": 2,
}


def test_search_is_ranked_and_tolerates_typos(api):
    status, body, _ = call(f"{api}/api/products/search?q=chedar")
    assert status == 200 and body["results"][0]["product_key"] == "opt-cheddar"
    status, body, _ = call(f"{api}/api/products/search?q=oat%20mlk")
    assert body["results"][0]["product_key"] == "opt-oat"
    status, body, _ = call(f"{api}/api/products/search?q=milk&limit=5")
    keys = [hit["product_key"] for hit in body["results"]]
    assert set(keys[:2]) == {"opt-milk", "opt-oat"}
    assert [hit["score"] for hit in body["results"]] == sorted(
        (hit["score"] for hit in body["results"]), reverse=True
    )
    status, body, _ = call(f"{api}/api/products/search?q=zzqqxx")
    assert status == 200 and body["results"] == []


@pytest.mark.parametrize("query", ["", "q=", "q=a", "q=milk&limit=0", "q=milk&limit=1000"])
def test_search_4xx(api, query):
    status, body, _ = call(f"{api}/api/products/search?{query}")
    assert status == 422 and "detail" in body


def test_optimize_then_cache_hit(api):
    status, first, headers = call(f"{api}/api/optimize", BASKET)
    assert status == 200, first
    assert first["status"] == "optimal" and headers["x-smartcart-cache"] == "miss"
    assert {store["store_key"] for store in first["stores"]} <= {"opt-s1", "opt-s2"}
    assert first["best_single_store"]["store_key"] == "opt-s1" and first["saving"] >= 0
    status, second, headers = call_until_hit(f"{api}/api/optimize", BASKET)
    assert status == 200 and second == first and headers["x-smartcart-cache"] == "hit"


def test_price_change_invalidates_the_cache(api, mini_catalog, warehouse_settings):
    basket = {**BASKET, "max_stores": 1}
    _, before, headers = call(f"{api}/api/optimize", basket)
    _, again, headers = call_until_hit(f"{api}/api/optimize", basket)
    assert headers["x-smartcart-cache"] == "hit"
    # A new day's scrape at opt-s2 with cheddar at 1.00 makes Thriftco Carlton the best single store.
    for product, price in [("opt-milk", 2.60), ("opt-eggs", 5.10), ("opt-cheddar", 1.00)]:
        mini_catalog.add_price("opt-s2", product, price, day="2026-03-03")
    status, after, headers = call(f"{api}/api/optimize", basket)
    assert status == 200 and headers["x-smartcart-cache"] == "miss"
    assert after["price_date"] == "2026-03-03" and after["stores"][0]["store_key"] == "opt-s2"
    assert after["total"] < before["total"]
    call_until_hit(f"{api}/api/optimize", basket)
    with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as conn:
        versions = conn.execute(
            "select count(distinct prices_version) from serving.optimizer_cache"
        ).fetchone()[0]
    assert versions == 1  # rows of the old prices were deleted


@pytest.mark.parametrize(
    "body,raw,status,needle",
    [
        ({"items": []}, None, 422, "items"),
        ({"items": [{"product_key": "opt-milk", "quantity": 0}]}, None, 422, "quantity"),
        ({"items": [{"product_key": "opt-milk"}], "radius_km": 3}, None, 422, "radius_km needs a postcode"),
        ({"items": [{"product_key": "opt-milk"}], "user_id": "u1"}, None, 422, "user_id"),
        (None, b"{not json", 422, "json"),
        ({"items": [{"product_key": "nope"}]}, None, 422, "unknown product id(s): nope"),
        ({"items": [{"product_key": "opt-milk"}], "postcode": "9999"}, None, 422, "unknown_postcode"),
        ({"items": [{"product_key": "opt-milk"}], "postcode": "3000", "radius_km": 0.1, "retailers": ["thriftco"]}, None, 422, "no_store"),
    ],
)  # fmt: skip
def test_optimize_4xx(api, body, raw, status, needle):
    code, response, _ = call(f"{api}/api/optimize", body, raw=raw)
    assert code == status and needle.lower() in json.dumps(response).lower()


def test_infeasible_is_a_200_with_a_named_item(api):
    basket = {"items": [{"product_key": "opt-eggs"}, {"product_key": "opt-milk"}], "budget": 1.0}
    status, body, _ = call(f"{api}/api/optimize", basket)
    assert status == 200 and body["status"] == "infeasible" and "budget" in body["message"]


def test_openapi_documents_the_endpoints(api):
    status, spec, _ = call(f"{api}/openapi.json")
    assert status == 200
    assert {"/api/optimize", "/api/products/search"} <= set(spec["paths"])
    assert "BasketRequest" in spec["components"]["schemas"]
