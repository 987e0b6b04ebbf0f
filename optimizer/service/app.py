"""The optimizer's HTTP API for apps and the shopper's page (stateless; OpenAPI at /docs, /redoc).

- ``GET  /`` the shopper's page (static HTML + JS; the list lives in the browser's sessionStorage)
- ``GET  /api/products/search?q=`` products ranked by similarity (typos tolerated), with size,
  GTIN, the retailers stocking them and their current price range
- ``GET  /api/products/{product_key}/alternatives`` cheaper comparable products
- ``GET  /api/retailers`` and ``GET /api/stores?postcode=&radius_km=&retailer=``
- ``POST /api/optimize`` a basket in, the cheapest split out (cached in serving.optimizer_cache)
- ``GET  /api/health`` 200, or 503 within 2 s when the catalog is unreachable

Reads the catalog as the least-privilege role ``smartcart_app_api`` (catalog read, serving write).
Every error body is ``ErrorResponse`` (``{"detail": {"code", "message", "details"}}``): 422 for
invalid input (field errors never echo the value), 413 over the body limit, 429 over the rate
limit (with ``Retry-After``), 503 when the catalog is empty or unreachable. An infeasible basket
(budget, K) is a 200 with ``status: infeasible`` and a message naming the item. Docs assets are
served by the package (fastapi-offline), so /docs and /redoc work offline (ADR 0017).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import BackgroundTasks, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

# The service solves on every request: load the solver when the app starts, not on the first basket.
import optimizer.solve  # noqa: F401
from optimizer.catalog import APP_ROLE, SnapshotCache, prices_version_or_none
from optimizer.service import listings
from optimizer.service.cache import DEFAULT_TTL_SECONDS, cache_get, cache_put, request_hash
from optimizer.service.connections import CatalogConnections, CatalogUnavailable
from optimizer.service.guards import GuardSettings, RequestGuard
from optimizer.service.models import (
    ERROR_RESPONSES,
    AlternativesResponse,
    ErrorResponse,
    OptimizeResponse,
    ProductHit,
    RetailerInfo,
    RetailersResponse,
    SearchResponse,
    StoresResponse,
    optimize_response,
)
from optimizer.service.search import (
    CHECK_SECONDS,
    CONTROL_CHARACTERS,
    VocabularyCache,
    configure_search_session,
    refresh_product_search,
    search_products,
    trigram_schema,
)
from optimizer.shopping import BasketError, BasketRequest, optimize_basket
from optimizer.solution import SolverConfig

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# Longest text of the caller's that an error message may quote.
MAX_ECHO = 80
PRICES_VERSION_TTL_SECONDS = 1.0


class _SearchFreshness:
    """Refresh serving.product_search when dim_product moved, checked at most every CHECK_SECONDS.
    ``ensure`` says whether it checked (then the typo vocabulary is checked too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked_at = -1e18

    def ensure(self, conn: psycopg.Connection) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at < CHECK_SECONDS:
                return False
            refresh_product_search(conn)
            self._checked_at = time.monotonic()
            return True


class _PricesVersion:
    """The current-prices version, remembered for ``PRICES_VERSION_TTL_SECONDS``: reading it scans
    catalog.fct_current_prices, which every request would otherwise pay. A rebuilt mart is seen
    at most that long after the build."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: tuple[str, str | None] | None = None
        self._read_at = -1e18

    def get(self, conn: psycopg.Connection) -> tuple[str, str | None] | None:
        with self._lock:
            if self._value is not None and time.monotonic() - self._read_at < PRICES_VERSION_TTL_SECONDS:
                return self._value
        value = prices_version_or_none(conn)
        with self._lock:
            self._value, self._read_at = value, time.monotonic()
        return value


def _error(status: int, code: str, message: str, details: Any = None, headers=None) -> JSONResponse:
    body = ErrorResponse.model_validate({"detail": {"code": code, "message": message, "details": details}})
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _field_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the offending input or its context (NaN, 10 MB strings...)."""
    problems = []
    for error in exc.errors()[:20]:
        loc = [part if isinstance(part, int) else str(part)[:MAX_ECHO] for part in error.get("loc", ())]
        problems.append(
            {"loc": loc, "message": str(error.get("msg", ""))[:200], "type": str(error.get("type", ""))}
        )
    return problems


def _default_catalog_url() -> str:
    # Resolved again when the catalog is unreachable: a restarted cluster may have a new port.
    from warehouse.platform.config import Settings

    return Settings.from_env().database_url("catalog", APP_ROLE)


def create_app(
    catalog_url: str | Callable[[], str] | None = None,
    cache_ttl_seconds: float | None = None,
    solver_config: SolverConfig | None = None,
    pool_size: int = 4,
    guard_settings: GuardSettings | None = None,
) -> FastAPI:
    """Build the app. ``catalog_url``: a URL, a function returning one (asked again after a
    failure), or None for the embedded cluster's URL for smartcart_app_api."""
    if catalog_url is None:
        resolve_url: Callable[[], str] = _default_catalog_url
    elif isinstance(catalog_url, str):
        fixed_url = catalog_url
        resolve_url = lambda: fixed_url  # noqa: E731
    else:
        resolve_url = catalog_url
    ttl = float(cache_ttl_seconds or os.environ.get("SMARTCART_OPTIMIZER_CACHE_TTL") or DEFAULT_TTL_SECONDS)
    config = solver_config or SolverConfig.from_env()
    guards = guard_settings or GuardSettings.from_env()
    connections = CatalogConnections(resolve_url, max_size=pool_size, configure=configure_search_session)
    freshness = _SearchFreshness()
    prices = _PricesVersion()
    snapshots = SnapshotCache()  # stores and offers per prices version: off the per-request path
    vocabulary = VocabularyCache()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        connections.open()
        try:
            yield
        finally:
            connections.close()

    app = FastAPIOffline(
        title="SmartCart optimizer API",
        version="1.1",
        description="Product search, store listings, cheaper alternatives and the cheapest split of a "
        "shopping list across stores. Stateless: no user data is stored; results are cached by request "
        "hash until prices change. Money is a string with two decimals. Every error body is "
        "`ErrorResponse`.",
        lifespan=lifespan,
        static_url="/static-docs",
    )
    app.add_middleware(RequestGuard, settings=guards)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _field_problems(exc)
        summary = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc'] if p not in ('body', 'query'))}: {problem['message']}"
            for problem in problems[:5]
        )
        return _error(422, "invalid_request", f"invalid request: {summary}", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI answers 400 for a body it cannot parse at all (not JSON, a broken form): that is
            # invalid input like any other, so it gets the documented 422.
            return _error(422, "unparseable_body", "the request body could not be parsed: send JSON", None)
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            detail = exc.detail
        else:
            detail = {"code": f"http_{exc.status_code}", "message": str(exc.detail)[:200]}
        return _error(
            exc.status_code, detail["code"], detail["message"], detail.get("details"), headers=exc.headers
        )

    @app.exception_handler(CatalogUnavailable)
    async def catalog_unavailable(request: Request, exc: CatalogUnavailable) -> JSONResponse:
        return _error(503, "catalog_unavailable", str(exc), headers={"Retry-After": "5"})

    def _store(key: str, version: str, result: bytes) -> None:
        # After the response: a failed cache write must not surface anywhere but the log.
        try:
            with connections.connection() as conn:
                cache_put(conn, key, version, result, ttl)
        except Exception as exc:  # noqa: BLE001
            log.warning("optimizer cache write failed: %s", exc)

    def _prices_or_503(conn: psycopg.Connection) -> tuple[str, str]:
        version = prices.get(conn)
        if version is None or version[1] is None:
            raise HTTPException(
                503,
                detail={
                    "code": "no_prices",
                    "message": "the catalog has no current prices yet: run the pipeline",
                },
            )
        return version  # type: ignore[return-value]

    @app.get(
        "/api/health",
        tags=["meta"],
        responses={503: {"model": ErrorResponse, "description": "the catalog database is unreachable"}},
    )
    def health() -> dict[str, str]:
        """200 when the catalog answers; 503 within 2 s when it does not (retried by itself)."""
        with connections.connection() as conn:
            conn.execute("select 1")
        return {"status": "ok"}

    @app.get(
        "/api/products/search", response_model=SearchResponse, tags=["products"], responses=ERROR_RESPONSES
    )
    def product_search(
        q: Annotated[
            str,
            Query(
                min_length=2,
                max_length=100,
                description="words of a product name; typos tolerated",
                examples=["mlik"],
            ),
        ],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> SearchResponse:
        """Products whose name best matches ``q``, best first, each with size, GTIN, the retailers
        with a current price and the price range."""
        if CONTROL_CHARACTERS.search(q):
            raise HTTPException(
                422, detail={"code": "invalid_query", "message": "q must not contain control characters"}
            )
        if not any(ch.isalnum() for ch in q):
            raise HTTPException(422, detail={"code": "empty_query", "message": "q must contain a word"})
        with connections.connection() as conn:
            _prices_or_503(conn)
            checked = freshness.ensure(conn)
            if "trgm" not in state:
                state["trgm"] = trigram_schema(conn)
            hits = search_products(
                conn,
                q,
                limit,
                schema=state["trgm"],
                vocabulary=vocabulary.get(conn, check=checked),
                session_configured=True,
            )
        return SearchResponse(query=q, results=[ProductHit(**hit) for hit in hits])

    @app.get(
        "/api/products/{product_key}/alternatives",
        response_model=AlternativesResponse,
        tags=["products"],
        responses={404: {"model": ErrorResponse, "description": "unknown product"}, **ERROR_RESPONSES},
    )
    def product_alternatives(
        product_key: Annotated[str, PathParam(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")],
    ) -> AlternativesResponse:
        """Cheaper equivalents: same canonical category, comparable size (0.5-2x, same unit), lower
        current unit price; each with its reason and a confidence (0-1)."""
        with connections.connection() as conn:
            _prices_or_503(conn)
            try:
                return listings.alternatives(conn, product_key)
            except listings.ListingError as exc:
                raise HTTPException(404, detail={"code": exc.code, "message": str(exc)}) from None

    @app.get("/api/retailers", response_model=RetailersResponse, tags=["stores"], responses=ERROR_RESPONSES)
    def list_retailers() -> RetailersResponse:
        """Retailers with their number of stores and the regions they are in."""
        with connections.connection() as conn:
            _prices_or_503(conn)
            return RetailersResponse(retailers=[RetailerInfo(**r) for r in listings.retailers(conn)])

    @app.get("/api/stores", response_model=StoresResponse, tags=["stores"], responses=ERROR_RESPONSES)
    def list_stores(
        postcode: Annotated[
            str | None,
            Query(min_length=2, max_length=12, pattern=r"^[A-Za-z0-9 ]+$", examples=["3000"]),
        ] = None,
        radius_km: Annotated[float | None, Query(gt=0, le=1000, allow_inf_nan=False)] = None,
        retailer: Annotated[
            list[Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]] | None,
            Query(max_length=50, description="repeat for several"),
        ] = None,
    ) -> StoresResponse:
        """Stores, nearest first from ``postcode``; only within ``radius_km`` (needs a postcode)."""
        if radius_km is not None and postcode is None:
            raise HTTPException(
                422,
                detail={"code": "postcode_required", "message": "radius_km needs a postcode to measure from"},
            )
        with connections.connection() as conn:
            _prices_or_503(conn)
            try:
                stores = listings.stores_near(conn, postcode, radius_km, retailer)
            except listings.ListingError as exc:
                raise HTTPException(422, detail={"code": exc.code, "message": str(exc)}) from None
        return StoresResponse(postcode=postcode, stores=stores)

    @app.post(
        "/api/optimize",
        response_model=OptimizeResponse,
        tags=["optimizer"],
        responses={
            200: {"description": "the split (status optimal), or status infeasible with a message"},
            **ERROR_RESPONSES,
        },
    )
    def optimize(basket: BasketRequest, background: BackgroundTasks) -> Response:
        """Split ``basket`` across at most ``max_stores`` stores at current prices, minimising item
        costs plus travel; compare with the best single store."""
        started = time.perf_counter()
        with connections.connection() as conn:
            version, price_date = _prices_or_503(conn)
            key = request_hash(basket, version)
            cached = cache_get(conn, key)
            if cached is not None:
                return Response(cached, media_type="application/json", headers={"X-SmartCart-Cache": "hit"})
            snapshot = snapshots.load(conn, basket.product_keys(), version=(version, price_date))
        loaded = time.perf_counter()
        try:
            # direct: the same formulation handed to HiGHS as arrays (no Pyomo block per request).
            result = optimize_basket(basket, snapshot, config=config, direct=True)
        except BasketError as exc:
            raise HTTPException(
                422, detail={"code": exc.code, "message": str(exc), "details": exc.details}
            ) from None
        # Serialised once, in pydantic's compiled encoder; the same bytes are sent and cached.
        body = optimize_response(result).model_dump_json()
        # Written after the response is sent: the shopper does not wait for the cache.
        background.add_task(_store, key, version, body.encode())
        solved = time.perf_counter()
        return Response(
            body,
            media_type="application/json",
            background=background,
            headers={
                "X-SmartCart-Cache": "miss",
                "Server-Timing": f"db;dur={1000 * (loaded - started):.1f}, solve;dur={1000 * (solved - loaded):.1f}",
            },
        )

    # The shopper's page: plain files from the package, no CDN, nothing stored server-side.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def shopper_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    return app


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
