"""The optimizer's HTTP API for apps (stateless; OpenAPI at /docs and /openapi.json).

- ``GET  /api/products/search?q=`` products ranked by trigram word similarity (typos tolerated)
- ``POST /api/optimize`` a basket in, the cheapest split out (cached in serving.optimizer_cache)
- ``GET  /api/health``

Reads the catalog as the least-privilege role ``smartcart_app_api`` (catalog read, serving write).
Errors: 422 for an invalid request (pydantic's field errors, or ``{"detail": {"code", "message",
"details"}}`` for a basket that cannot be priced: unknown product ids, postcode, retailer, no store
in range), 503 when the catalog is empty or unreachable. An infeasible basket (budget, K) is a
200 with ``status: infeasible`` and a message naming the item.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import BackgroundTasks, FastAPI, HTTPException, Query, Response
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from optimizer.catalog import APP_ROLE, load_snapshot, prices_version
from optimizer.service.cache import DEFAULT_TTL_SECONDS, cache_get, cache_put, request_hash
from optimizer.service.search import CHECK_SECONDS, refresh_product_search, search_products, trigram_schema
from optimizer.shopping import BasketError, BasketRequest, optimize_basket
from optimizer.solve import SolverConfig


class ProductHit(BaseModel):
    product_key: str
    product_name: str
    brand: str | None = None
    retailer: str | None = None
    category_path: str | None = None
    score: float


class SearchResponse(BaseModel):
    query: str
    results: list[ProductHit]


class _SearchFreshness:
    """Refresh serving.product_search when dim_product moved, checked at most every CHECK_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked_at = -1e18

    def ensure(self, conn: psycopg.Connection) -> None:
        with self._lock:
            if time.monotonic() - self._checked_at < CHECK_SECONDS:
                return
            refresh_product_search(conn)
            self._checked_at = time.monotonic()


def create_app(
    catalog_url: str | None = None,
    cache_ttl_seconds: float | None = None,
    solver_config: SolverConfig | None = None,
    pool_size: int = 4,
) -> FastAPI:
    """Build the app. ``catalog_url`` defaults to the embedded cluster's URL for smartcart_app_api."""
    if catalog_url is None:
        from warehouse.platform.config import Settings

        catalog_url = Settings.from_env().database_url("catalog", APP_ROLE)
    ttl = float(cache_ttl_seconds or os.environ.get("SMARTCART_OPTIMIZER_CACHE_TTL") or DEFAULT_TTL_SECONDS)
    config = solver_config or SolverConfig.from_env()
    pool = ConnectionPool(
        catalog_url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": True}
    )
    freshness = _SearchFreshness()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool.open(wait=True, timeout=30)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        title="SmartCart optimizer API",
        version="1.0",
        description="Product search and the cheapest split of a shopping list across stores. "
        "Stateless: no user data is stored; results are cached by request hash until prices change.",
        lifespan=lifespan,
    )

    def _connection():
        try:
            return pool.connection(timeout=10)
        except Exception as exc:  # pragma: no cover - pool timeout
            raise HTTPException(503, detail={"code": "catalog_unavailable", "message": str(exc)}) from exc

    def _store(key: str, version: str, result: dict[str, Any]) -> None:
        with pool.connection(timeout=10) as conn:
            cache_put(conn, key, version, result, ttl)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        with _connection() as conn:
            conn.execute("select 1")
        return {"status": "ok"}

    @app.get("/api/products/search", response_model=SearchResponse, tags=["products"])
    def product_search(
        q: str = Query(min_length=2, max_length=100, description="words of a product name; typos tolerated"),
        limit: int = Query(default=20, ge=1, le=100),
    ) -> SearchResponse:
        """Products whose name best matches ``q`` (pg_trgm word similarity, best first)."""
        if not q.strip():
            raise HTTPException(422, detail={"code": "empty_query", "message": "q must contain a word"})
        with _connection() as conn:
            freshness.ensure(conn)
            if "trgm" not in state:
                state["trgm"] = trigram_schema(conn)
            hits = search_products(conn, q, limit, schema=state["trgm"])
        return SearchResponse(query=q, results=[ProductHit(**hit) for hit in hits])

    @app.post(
        "/api/optimize",
        tags=["optimizer"],
        responses={
            200: {"description": "the split (status optimal), or status infeasible with a message"},
            422: {
                "description": "invalid basket: field errors, unknown product ids/postcode/retailer, no store"
            },
            503: {"description": "the catalog is empty or unreachable"},
        },
    )
    def optimize(basket: BasketRequest, response: Response, background: BackgroundTasks) -> dict[str, Any]:
        """Split ``basket`` across at most ``max_stores`` stores at current prices, minimising item
        costs plus travel; compare with the best single store."""
        started = time.perf_counter()
        with _connection() as conn:
            version, price_date = prices_version(conn)
            if price_date is None:
                raise HTTPException(
                    503,
                    detail={
                        "code": "no_prices",
                        "message": "the catalog has no prices yet: run the pipeline",
                    },
                )
            key = request_hash(basket, version)
            cached = cache_get(conn, key)
            if cached is not None:
                response.headers["X-SmartCart-Cache"] = "hit"
                return cached
            snapshot = load_snapshot(conn, basket.product_keys(), version=(version, price_date))
        loaded = time.perf_counter()
        try:
            result = optimize_basket(basket, snapshot, config=config)
        except BasketError as exc:
            raise HTTPException(
                422, detail={"code": exc.code, "message": str(exc), "details": exc.details}
            ) from None
        # Written after the response is sent: the shopper does not wait for the cache.
        background.add_task(_store, key, version, result)
        response.headers["X-SmartCart-Cache"] = "miss"
        solved = time.perf_counter()
        response.headers["Server-Timing"] = (
            f"db;dur={1000 * (loaded - started):.1f}, solve;dur={1000 * (solved - loaded):.1f}"
        )
        return result

    return app


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
