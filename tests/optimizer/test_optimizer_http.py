"""The optimizer HTTP service over real HTTP (uvicorn on a free port) against a real catalog."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import psycopg
import pytest

from optimizer.catalog import APP_ROLE
from optimizer.service.app import create_app
from optimizer.service.guards import GuardSettings

pytestmark = pytest.mark.integration
MONEY = r"^-?[0-9]+\.[0-9]{2}$"


@pytest.fixture(scope="module")
def api(mini_catalog, warehouse_settings, serve_app):
    app = create_app(
        warehouse_settings.database_url("catalog", APP_ROLE),
        cache_ttl_seconds=600,
        guard_settings=GuardSettings(rate_limit=None),
    )
    url, stop = serve_app(app)
    yield url
    stop()


def call(url: str, body=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), _lower(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), _lower(exc.headers)


def _lower(headers) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


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
    assert first["best_single_store"]["store_key"] == "opt-s1" and Decimal(first["saving"]) >= 0
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
    mini_catalog.publish()
    status, after, headers = call(f"{api}/api/optimize", basket)
    assert status == 200 and headers["x-smartcart-cache"] == "miss"
    assert after["price_date"] == "2026-03-03" and after["stores"][0]["store_key"] == "opt-s2"
    assert Decimal(after["total"]) < Decimal(before["total"])
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
    basket = {
        "items": [{"product_key": "opt-eggs"}, {"product_key": "opt-milk"}],
        "budget": 1.0,
        "region": "VIC",
    }
    status, body, _ = call(f"{api}/api/optimize", basket)
    assert status == 200 and body["status"] == "infeasible" and "budget" in body["message"]


def test_openapi_documents_the_endpoints(api):
    status, spec, _ = call(f"{api}/openapi.json")
    assert status == 200
    assert {"/api/optimize", "/api/products/search"} <= set(spec["paths"])
    assert "BasketRequest" in spec["components"]["schemas"]


# --- money, listings, search details, alternatives, the no-postcode rule -------------------------
def test_money_is_exact_decimal_strings_whose_parts_add_up(api):
    import re

    status, body, _ = call(f"{api}/api/optimize", BASKET)
    assert status == 200 and body["status"] == "optimal"
    amounts = [body["total"], body["items_total"], body["travel_total"], body["saving"]]
    amounts += [body["best_single_store"]["total"]]
    for store in body["stores"]:
        amounts += [store["subtotal"], store["travel_cost"], store["total"]]
        for line in store["items"]:
            amounts += [line["cost"], *(pack["pack_price"] for pack in line["packs"])]
            assert Decimal(line["cost"]) == sum(Decimal(p["pack_price"]) * p["count"] for p in line["packs"])
        assert Decimal(store["subtotal"]) == sum(Decimal(line["cost"]) for line in store["items"])
        assert Decimal(store["total"]) == Decimal(store["subtotal"]) + Decimal(store["travel_cost"])
    assert all(isinstance(a, str) and re.match(MONEY, a) for a in amounts), amounts
    assert Decimal(body["total"]) == sum(Decimal(s["total"]) for s in body["stores"])
    assert Decimal(body["saving"]) == Decimal(body["best_single_store"]["total"]) - Decimal(body["total"])


def test_without_a_postcode_the_split_asks_for_a_region(api):
    basket = {"items": [{"product_key": "opt-milk"}, {"product_key": "opt-eggs"}]}
    status, body, _ = call(f"{api}/api/optimize", basket)
    assert status == 422 and body["detail"]["code"] == "region_required"
    assert "postcode" in body["detail"]["message"] and set(body["detail"]["details"]) == {"NSW", "VIC"}
    status, body, _ = call(f"{api}/api/optimize", {**basket, "region": "VIC"})
    assert status == 200 and {s["store_key"] for s in body["stores"]} <= {"opt-s1", "opt-s2", "opt-s3"}
    # Stores all in one region need no region.
    status, body, _ = call(f"{api}/api/optimize", {**basket, "stores": ["opt-s1", "opt-s2"]})
    assert status == 200 and body["status"] == "optimal"
    status, body, _ = call(f"{api}/api/optimize", {**basket, "region": "WA"})
    assert status == 422 and body["detail"]["code"] == "unknown_region"


def test_retailers_and_stores(api):
    status, body, _ = call(f"{api}/api/retailers")
    assert status == 200
    assert {r["retailer"]: (r["stores"], r["regions"]) for r in body["retailers"]} == {
        "optimart": (2, ["NSW", "VIC"]),
        "thriftco": (2, ["VIC"]),
    }
    status, body, _ = call(f"{api}/api/stores?postcode=3000&radius_km=10")
    assert status == 200 and [s["store_key"] for s in body["stores"]] == ["opt-s1", "opt-s2"]
    assert body["stores"][0]["distance_km"] == 0 and 1 < body["stores"][1]["distance_km"] < 2
    status, body, _ = call(f"{api}/api/stores?retailer=thriftco&postcode=3000")
    assert [s["store_key"] for s in body["stores"]] == ["opt-s2", "opt-s3"]
    status, body, _ = call(f"{api}/api/stores")
    assert len(body["stores"]) == 4 and all(s["distance_km"] is None for s in body["stores"])
    for query, code in [("postcode=9999", "unknown_postcode"), ("radius_km=5", "postcode_required"),
                        ("retailer=nope", "unknown_retailers")]:  # fmt: skip
        status, body, _ = call(f"{api}/api/stores?{query}")
        assert status == 422 and body["detail"]["code"] == code, (query, body)


@pytest.mark.parametrize("typo,expected", [("mlik", "opt-milk"), ("bred", "opt-bread"), ("chedar", "opt-cheddar"),
                                           ("wholemeal bred", "opt-bread"), ("banan", "opt-banana")])  # fmt: skip
def test_search_corrects_short_typos(api, typo, expected):
    status, body, _ = call(f"{api}/api/products/search?q={urllib.parse.quote(typo)}")
    assert status == 200 and body["results"], body
    assert body["results"][0]["product_key"] == expected


def test_search_hits_carry_size_gtin_retailers_and_price_range(api):
    status, body, _ = call(f"{api}/api/products/search?q=cheddar")
    hit = body["results"][0]
    assert hit["product_key"] == "opt-cheddar" and hit["package_unit"] == "kg"
    assert hit["package_quantity"] == 0.5 and "gtin" in hit and "size" in hit
    status, body, _ = call(f"{api}/api/products/search?q=eggs")
    hit = body["results"][0]
    # Current eggs: s1 6.20, s2 5.10, s4 6.00; s3 sells none.
    assert hit["retailers"] == ["optimart", "thriftco"] and hit["stores_stocking"] == 3
    assert (hit["price_min"], hit["price_max"]) == ("5.10", "6.20")


def test_alternatives_are_cheaper_per_unit_in_the_same_category(api):
    status, body, _ = call(f"{api}/api/products/opt-oat/alternatives")
    assert status == 200, body
    assert body["unit_price"] == "2.90" and body["package_unit"] == "l"
    (alt,) = body["alternatives"]
    # Full cream milk 2 l: cheapest 2.20 at s3 -> 1.10 per l, against 2.90 per l for oat milk.
    assert alt["product_key"] == "opt-milk" and alt["unit_price"] == "1.10"
    assert alt["saving_per_unit"] == "1.80" and "Dairy > Milk" in alt["reason"]
    assert 0 <= alt["confidence"] <= 1
    status, body, _ = call(f"{api}/api/products/opt-milk/alternatives")
    assert status == 200 and body["alternatives"] == []  # nothing cheaper per litre
    status, body, _ = call(f"{api}/api/products/no-such/alternatives")
    assert status == 404 and body["detail"]["code"] == "unknown_product"


# --- bad input never gives a 500, never echoes, never breaks the connection ---------------------
@pytest.mark.parametrize(
    "raw,field",
    [
        (b'{"items": [{"product_key": "opt-milk"}], "region": "VIC", "budget": NaN}', "budget"),
        (b'{"items": [{"product_key": "opt-milk"}], "region": "VIC", "budget": Infinity}', "budget"),
        (
            b'{"items": [{"product_key": "opt-milk"}], "region": "VIC", "cost_per_km": -Infinity}',
            "cost_per_km",
        ),
        (b'{"items": [NaN]}', "items"),
        (b'{"items": [{"product_key": "opt\\u0000milk"}], "region": "VIC"}', "product_key"),
        (
            b'{"items": [{"product_key": "opt-milk"}], "retailers": ["a\\u0000"], "region": "VIC"}',
            "retailers",
        ),
        (b'{"items": [{"product_key": "opt-milk", "quantity": 1e400}]}', "quantity"),
    ],
)
def test_non_finite_numbers_and_nul_bytes_are_422(api, raw, field):
    status, body, _ = call(f"{api}/api/optimize", raw=raw)
    assert status == 422 and body["detail"]["code"] == "invalid_request", body
    assert any(field in problem["loc"] for problem in body["detail"]["details"]), body


@pytest.mark.parametrize("query", ["q=mi%00lk", "q=%00%00", "q=milk%01"])
def test_nul_and_control_characters_in_search_are_422(api, query):
    status, body, _ = call(f"{api}/api/products/search?{query}")
    assert status == 422 and body["detail"]["code"] in {"invalid_query", "empty_query"}


def test_errors_never_echo_large_inputs(api):
    big = "x" * 200_000
    raw = json.dumps({"items": [{"product_key": big}], "postcode": big, big[:5000]: 1}).encode()
    status, body, headers = call(f"{api}/api/optimize", raw=raw)
    assert status == 422 and len(json.dumps(body)) < 5000 and big[:200] not in json.dumps(body)


def test_the_connection_stays_usable_after_errors(api):
    import http.client

    host, port = api.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    sockets = set()
    requests = [
        ("POST", "/api/optimize", b'{"items": [{"product_key": "opt-milk"}], "budget": NaN}', 422),
        ("GET", "/api/products/search?q=mi%00lk", None, 422),
        ("POST", "/api/optimize", b"{not json", 422),
        ("GET", "/api/products/nope/alternatives", None, 404),
        ("GET", "/api/nowhere", None, 404),
        ("POST", "/api/optimize", json.dumps(BASKET).encode(), 200),
        ("GET", "/api/health", None, 200),
    ]
    for method, path, body, expected in requests:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        payload = json.loads(response.read())
        assert response.status == expected, (path, payload)
        sockets.add(conn.sock.getsockname())
    assert len(sockets) == 1  # one keep-alive connection served every request
    conn.close()


def test_body_limit_gives_413_for_declared_and_streamed_bodies(mini_catalog, warehouse_settings, serve_app):
    import http.client

    app = create_app(
        warehouse_settings.database_url("catalog", APP_ROLE),
        guard_settings=GuardSettings(max_body_bytes=2000, rate_limit=None),
    )
    url, stop = serve_app(app)
    try:
        padding = json.dumps({"items": [{"product_key": "opt-milk"}] * 400}).encode()
        status, body, headers = call(f"{url}/api/optimize", raw=padding)
        assert (
            status == 413
            and body["detail"]["code"] == "body_too_large"
            and "2000" in body["detail"]["message"]
        )
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        # Chunked: no Content-Length, the limit is counted as the body streams in.
        conn.request("POST", "/api/optimize", body=iter([padding[:1500], padding[1500:]]),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)  # fmt: skip
        response = conn.getresponse()
        assert response.status == 413 and json.loads(response.read())["detail"]["code"] == "body_too_large"
        conn.close()
        small = {"items": [{"product_key": "opt-milk"}], "region": "VIC"}
        status, body, _ = call(f"{url}/api/optimize", small)
        assert status == 200 and body["status"] == "optimal"
    finally:
        stop()


def test_the_default_body_limit_is_one_mebibyte():
    assert GuardSettings.from_env({}).max_body_bytes == 1024 * 1024
    assert GuardSettings.from_env({"SMARTCART_API_MAX_BODY_BYTES": "5000"}).max_body_bytes == 5000
    assert GuardSettings.from_env({"SMARTCART_API_RATE_LIMIT": "off"}).rate_limit is None
    with pytest.raises(ValueError, match="SMARTCART_API_MAX_BODY_BYTES"):
        GuardSettings.from_env({"SMARTCART_API_MAX_BODY_BYTES": "1MB"})
    with pytest.raises(ValueError, match="600/minute"):
        GuardSettings.from_env({"SMARTCART_API_RATE_LIMIT": "lots"})


def test_rate_limit_gives_429_with_retry_after(mini_catalog, warehouse_settings, serve_app):
    app = create_app(
        warehouse_settings.database_url("catalog", APP_ROLE),
        guard_settings=GuardSettings(rate_limit="5/2 seconds"),
    )
    url, stop = serve_app(app)
    try:
        statuses = [call(f"{url}/api/health")[0] for _ in range(5)]
        assert statuses == [200] * 5
        status, body, headers = call(f"{url}/api/health")
        assert status == 429 and body["detail"]["code"] == "rate_limited"
        retry_after = int(headers["retry-after"])
        assert 1 <= retry_after <= 2
        time.sleep(retry_after + 0.1)
        assert call(f"{url}/api/health")[0] == 200  # the window moved on
    finally:
        stop()


def test_docs_and_redoc_are_served_without_a_cdn(api):
    for page in ("/docs", "/redoc"):
        with urllib.request.urlopen(f"{api}{page}", timeout=30) as response:
            html = response.read().decode()
        assert "cdn." not in html and "unpkg" not in html and "googleapis" not in html
        assets = [part.split('"')[0] for part in html.split('src="')[1:]]
        assets += [part.split('"')[0] for part in html.split('href="')[1:] if ".css" in part.split('"')[0]]
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            with urllib.request.urlopen(f"{api}{asset}", timeout=30) as response:
                assert response.status == 200 and len(response.read()) > 1000


def test_openapi_has_typed_responses_the_error_model_and_examples(api):
    status, spec, _ = call(f"{api}/openapi.json")
    schemas = spec["components"]["schemas"]
    assert {
        "OptimizeResponse",
        "SearchResponse",
        "ErrorResponse",
        "StoresResponse",
        "RetailersResponse",
    } <= set(schemas)
    optimize = spec["paths"]["/api/optimize"]["post"]["responses"]
    assert optimize["200"]["content"]["application/json"]["schema"]["$ref"].endswith("OptimizeResponse")
    for code in ("413", "422", "429", "503"):
        assert optimize[code]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    assert "examples" in schemas["OptimizeResponse"] and "examples" in schemas["ProductHit"]
    total = schemas["OptimizeResponse"]["properties"]["total"]
    assert "pattern" in json.dumps(total)
