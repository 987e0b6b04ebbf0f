"""Typed bodies of the HTTP API: responses, the one error model, and money as exact decimals.

Money is a JSON *string* with exactly two decimal places ("12.40"): a JSON number cannot promise
two places, and a float cannot hold 0.10 exactly. ``optimize_response`` re-adds the split's totals
in ``Decimal`` from the rounded line costs, so every shown total is the exact sum of the shown parts.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


def to_money(value: float | Decimal | str | None) -> Decimal | None:
    """Round half-even to cents; None stays None."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value.quantize(CENT, rounding=ROUND_HALF_EVEN)}", return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "an amount in the catalog's currency, exact, two decimal places",
            "examples": ["12.40"],
        }
    ),
]


# --- errors ------------------------------------------------------------------------------------
class FieldProblem(BaseModel):
    """One invalid field: where it is, and what is wrong (the value itself is never echoed)."""

    loc: list[str | int] = Field(examples=[["body", "items", 0, "quantity"]])
    message: str = Field(examples=["Input should be greater than or equal to 1"])
    type: str = Field(examples=["greater_than_equal"])


class ErrorDetail(BaseModel):
    code: str = Field(
        description="machine-readable: invalid_request, unknown_products, unknown_postcode, unknown_retailers, "
        "no_store, region_required, invalid_query, unknown_product, body_too_large, rate_limited, "
        "catalog_unavailable, no_prices, internal_error",
        examples=["unknown_products"],
    )
    message: str = Field(
        description="what is wrong and what to do, for a person",
        examples=["unknown product id(s): opt-mlk (use catalog.dim_product.product_key, ...)"],
    )
    details: Any = Field(
        default=None, description="the invalid fields (a list of FieldProblem), or the unknown ids"
    )


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body of this API."""

    detail: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "the body is over the size limit"},
    422: {"model": ErrorResponse, "description": "invalid input; `detail.code` says which kind"},
    429: {
        "model": ErrorResponse,
        "description": "over the per-client rate limit; retry after `Retry-After` seconds",
    },
    503: {"model": ErrorResponse, "description": "the catalog is empty or unreachable; retry later"},
}


# --- catalog listings --------------------------------------------------------------------------
class ProductHit(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "product_key": "3f2a...",
                    "product_name": "Full Cream Milk 2 l",
                    "brand": "Dairy Farmers",
                    "category_path": "Dairy > Milk",
                    "size": "2 l",
                    "package_quantity": 2.0,
                    "package_unit": "l",
                    "gtin": "09300633000015",
                    "retailers": ["freshmart", "valueway"],
                    "stores_stocking": 12,
                    "price_min": "3.10",
                    "price_max": "3.60",
                    "score": 0.857,
                }
            ]
        }
    )

    product_key: str
    product_name: str
    brand: str | None = None
    category_path: str | None = None
    size: str | None = Field(default=None, description="pack size as listed, e.g. '2 l'")
    package_quantity: float | None = None
    package_unit: str | None = None
    gtin: str | None = None
    retailers: list[str] = Field(default_factory=list, description="retailers with a current price")
    stores_stocking: int = Field(default=0, description="branches with a current in-stock price")
    price_min: Money | None = None
    price_max: Money | None = None
    score: float = Field(description="match quality, 0-1")


class SearchResponse(BaseModel):
    query: str
    results: list[ProductHit]


class RetailerInfo(BaseModel):
    retailer: str
    stores: int
    regions: list[str]


class RetailersResponse(BaseModel):
    retailers: list[RetailerInfo]


class StoreListing(BaseModel):
    store_key: str
    retailer: str
    store_id: str
    store_name: str
    postcode: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    distance_km: float | None = Field(default=None, description="from the postcode's centroid, if given")


class StoresResponse(BaseModel):
    postcode: str | None = None
    stores: list[StoreListing]


class Alternative(BaseModel):
    product_key: str
    product_name: str
    brand: str | None = None
    size: str | None = None
    unit_price: Money = Field(description="lowest current price per package_unit")
    package_unit: str | None = None
    price_min: Money
    saving_per_unit: Money = Field(description="this product's unit price below the original's")
    reason: str
    confidence: float = Field(ge=0, le=1)


class AlternativesResponse(BaseModel):
    product_key: str
    product_name: str
    category_path: str | None = None
    unit_price: Money | None = Field(default=None, description="the original's lowest current unit price")
    package_unit: str | None = None
    alternatives: list[Alternative]


# --- optimize ----------------------------------------------------------------------------------
class PackLine(BaseModel):
    pack_size: int
    count: int
    pack_price: Money


class SplitLine(BaseModel):
    product_key: str
    product_name: str | None = None
    quantity: int
    packs: list[PackLine]
    cost: Money
    substitute_for: str | None = Field(default=None, description="the list item this substitute replaces")
    substitute_for_name: str | None = None


class StoreSplit(BaseModel):
    store_key: str
    store: str
    retailer: str
    postcode: str | None = None
    distance_km: float | None = None
    items: list[SplitLine]
    subtotal: Money
    travel_cost: Money
    total: Money


class SingleStore(BaseModel):
    store_key: str
    store: str
    total: Money


class InfeasibleItem(BaseModel):
    product_key: str
    product_name: str | None = None


class OptimizeResponse(BaseModel):
    """The split: per-store lists, totals and the best single store; or why there is none."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "optimal",
                    "price_date": "2026-03-02",
                    "stores_considered": 3,
                    "stores": [
                        {
                            "store_key": "opt-s2",
                            "store": "Thriftco Carlton (thriftco 2)",
                            "retailer": "thriftco",
                            "postcode": "3053",
                            "distance_km": 1.53,
                            "items": [
                                {
                                    "product_key": "opt-milk",
                                    "product_name": "Full Cream Milk 2 l",
                                    "quantity": 2,
                                    "packs": [{"pack_size": 1, "count": 2, "pack_price": "2.60"}],
                                    "cost": "5.20",
                                }
                            ],
                            "subtotal": "5.20",
                            "travel_cost": "0.92",
                            "total": "6.12",
                        }
                    ],
                    "items_total": "5.20",
                    "travel_total": "0.92",
                    "total": "6.12",
                    "best_single_store": {
                        "store_key": "opt-s2",
                        "store": "Thriftco Carlton (thriftco 2)",
                        "total": "6.12",
                    },
                    "saving": "0.00",
                }
            ]
        }
    )

    status: Literal["optimal", "infeasible", "time_limit", "error"]
    price_date: str | None = None
    stores_considered: int
    message: str | None = Field(default=None, description="why there is no optimal split, naming the item")
    infeasible_item: InfeasibleItem | None = None
    stores: list[StoreSplit] = Field(default_factory=list)
    items_total: Money | None = None
    travel_total: Money | None = None
    total: Money | None = None
    best_single_store: SingleStore | None = None
    saving: Money | None = Field(default=None, description="best single store's total minus this total")


def optimize_response(result: dict[str, Any]) -> OptimizeResponse:
    """``optimizer.shopping.shape_result``'s dict with money in cents, totals summed exactly."""
    stores = []
    for row in result.get("stores", []):
        lines = [
            SplitLine(
                **{k: v for k, v in line.items() if k not in {"packs", "cost"}},
                packs=[
                    PackLine(**pack | {"pack_price": to_money(pack["pack_price"])}) for pack in line["packs"]
                ],
                cost=to_money(line["cost"]),
            )
            for line in row["items"]
        ]
        subtotal = sum((line.cost for line in lines), Decimal("0.00"))
        travel = to_money(row["travel_cost"])
        stores.append(
            StoreSplit(
                **{k: v for k, v in row.items() if k not in {"items", "subtotal", "travel_cost", "total"}},
                items=lines,
                subtotal=subtotal,
                travel_cost=travel,
                total=subtotal + travel,
            )
        )
    single = result.get("best_single_store")
    single_model = SingleStore(**single | {"total": to_money(single["total"])}) if single else None
    response = OptimizeResponse(
        status=result["status"],
        price_date=result.get("price_date"),
        stores_considered=result.get("stores_considered", 0),
        message=result.get("message"),
        infeasible_item=result.get("infeasible_item"),
        stores=stores,
        best_single_store=single_model,
    )
    if result.get("total") is not None:
        response.items_total = sum((s.subtotal for s in stores), Decimal("0.00"))
        response.travel_total = sum((s.travel_cost for s in stores), Decimal("0.00"))
        response.total = response.items_total + response.travel_total
        if single_model is not None:
            # The optimum is never dearer than the best single store; a negative cent would only be
            # the two totals rounded from different sums.
            response.saving = max(Decimal("0.00"), single_model.total - response.total)
    return response
