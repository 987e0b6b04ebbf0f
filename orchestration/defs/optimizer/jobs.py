"""On-demand basket split: a job whose run config is a basket, launched from the UI's launchpad.

The config schema mirrors the basket JSON of ``smartcart optimize --basket`` and
``POST /api/optimize`` (optimizer.shopping.BasketRequest), which validates it again.
"""

import json

import dagster as dg
from pydantic import Field, ValidationError

from optimizer.catalog import APP_ROLE, load_snapshot
from optimizer.shopping import BasketError, BasketRequest, format_result, optimize_basket
from orchestration.defs.metadata import cents, rounded_to_cents
from orchestration.defs.resources import WarehouseResource


class BasketItemConfig(dg.Config):
    product_key: str = Field(description="catalog.dim_product.product_key")
    quantity: int = Field(default=1, description="units wanted")
    substitutes: list[str] = Field(default_factory=list, description="product keys accepted instead")


class BasketConfig(dg.Config):
    """A shopping basket (same fields as the basket JSON)."""

    items: list[BasketItemConfig] = Field(description="what to buy")
    postcode: str | None = Field(default=None, description="shopper's postcode, for travel costs")
    retailers: list[str] | None = Field(default=None, description="only these retailers")
    radius_km: float | None = Field(default=None, description="only stores within this distance")
    max_stores: int | None = Field(default=3, description="visit at most K stores")
    cost_per_km: float = Field(default=0.3, description="travel cost per km driven (round trip)")
    store_visit_cost: float = Field(default=0.0, description="fixed cost per store visited")
    budget: float | None = Field(default=None, description="fail if the split costs more")


def basket_request(config: BasketConfig) -> BasketRequest:
    try:
        return BasketRequest.model_validate(config.model_dump())
    except ValidationError as exc:
        from optimizer.cli import validation_summary

        raise dg.Failure(f"invalid basket: {validation_summary(exc)}") from None


@dg.op(description="Split the configured basket across stores at current catalog prices.")
def optimize_basket_op(
    context: dg.OpExecutionContext, config: BasketConfig, warehouse: WarehouseResource
) -> dict:
    request = basket_request(config)
    with warehouse.connect("catalog", APP_ROLE) as conn:
        snapshot = load_snapshot(conn, request.product_keys())
    if not snapshot.stores:
        raise dg.Failure("the catalog has no stores: run the catalog pipeline first")
    try:
        result = optimize_basket(request, snapshot)
    except BasketError as exc:
        raise dg.Failure(str(exc)) from None
    context.log.info("\n" + format_result(result))
    context.add_output_metadata(
        {
            "status": result["status"],
            "total": cents(result.get("total")),
            "best_single_store_total": cents((result.get("best_single_store") or {}).get("total")),
            "saving": cents(result.get("saving")),
            "split": dg.MetadataValue.json(rounded_to_cents(json.loads(json.dumps(result)))),
        }
    )
    if result["status"] != "optimal":
        raise dg.Failure(f"basket not solved to optimality: {result.get('message', result['status'])}")
    return result


# The launchpad opens with this basket (a run may replace every field). Its keys are the demo
# market's first three products (catalogue indexes 0-2: milk, yoghurt, cheese) as the catalog mart
# keys them, md5('gtin:' || 14-digit GTIN); tests/orchestration/test_code_location_polish.py
# recomputes them, so they cannot drift from the demo market.
EXAMPLE_BASKET: dict = {
    "items": [
        {"product_key": "7b333e13bf945974ebae5fe0045a02ce", "quantity": 2},
        {"product_key": "abbc0f15176b3c94b9d509b2edcd0da3", "quantity": 1},
        {"product_key": "5b613ea4d27a66603d862cdea978ad00", "quantity": 1},
    ],
    "postcode": "2000",
    "max_stores": 2,
}


@dg.job(
    description="On demand: split one basket (run config = the basket JSON fields) across stores."
    " The launchpad starts from an example basket of three demo-market products.",
    tags={"domain": "optimizer"},
    config={"ops": {"optimize_basket_op": {"config": EXAMPLE_BASKET}}},
)
def optimize_basket_job():
    optimize_basket_op()
