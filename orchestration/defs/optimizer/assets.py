"""Optimizer: split a sample basket across stores from current mart prices (Pyomo + HiGHS)."""

import json

import dagster as dg
from psycopg.types.json import Jsonb
from pydantic import Field

from optimizer.basket import basket_problem_from_prices, summarise_split
from orchestration.defs.metadata import cents, rounded_to_cents
from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from warehouse.platform.access.roles import Role

OPTIMIZER_ROLE = Role.TRANSFORM

# The catalog's current prices (catalog.fct_current_prices, the one definition of the rule), one
# per store x canonical product (its cheapest listing), named for the split summary.
CURRENT_PRICES_SQL = """
select s.store_name || ' (' || s.retailer || ' ' || s.store_id || ')' as store_label,
       p.product_key, p.product_name, f.price, max(f.price_date) over () as price_date
from catalog.fct_current_prices as f
join catalog.dim_store as s on s.store_key = f.store_key
join catalog.dim_product as p on p.product_key = f.product_key
where f.is_cheapest_listing
order by f.store_key, f.product_key
"""


class SampleBasketConfig(dg.Config):
    basket_size: int = Field(default=12, description="How many products the sample basket holds.")
    store_visit_cost: float = Field(default=3.0, description="Travel cost of visiting one more store.")
    max_stores: int = Field(default=2, description="At most this many stores (K).")


def choose_sample_basket(rows: list[tuple], basket_size: int) -> list[tuple[str, int]]:
    """A deterministic basket: products stocked in the most stores, tie-broken by key; quantities 1-3."""
    stores_per_product: dict[str, set[str]] = {}
    for store_label, product_key, *_ in rows:
        stores_per_product.setdefault(product_key, set()).add(store_label)
    ranked = sorted(stores_per_product, key=lambda key: (-len(stores_per_product[key]), key))
    return [(key, 1 + int(key[:2], 16) % 3) for key in ranked[:basket_size]]


@dg.asset(
    deps=[
        dg.AssetKey(["catalog", "fct_current_prices"]),
        dg.AssetKey(["catalog", "dim_store"]),
        dg.AssetKey(["catalog", "dim_product"]),
    ],
    group_name="optimizer",
    owners=owners_of("optimizer"),
    kinds={"pyomo", "highs"},
)
def sample_basket_split(
    context: dg.AssetExecutionContext, config: SampleBasketConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The cheapest split of a standard basket across at most K stores, against the best single store."""
    with warehouse.connect("catalog", OPTIMIZER_ROLE) as conn:
        rows = conn.execute(CURRENT_PRICES_SQL).fetchall()
        if not rows:
            raise dg.Failure("no current prices in catalog.fct_current_prices: build the catalog mart first")
        price_date = rows[0][4]
        names = {product_key: name for _, product_key, name, _, _ in rows}
        basket = choose_sample_basket(rows, config.basket_size)
        problem = basket_problem_from_prices(
            [(store, product, float(price)) for store, product, _, price, _ in rows],
            basket,
            store_visit_cost=config.store_visit_cost,
            max_stores=config.max_stores,
        )
        from optimizer.solve import solve  # HiGHS and Pyomo load in this step only (optimizer.solution)

        solution = solve(problem)
        summary = summarise_split(problem, solution)
        summary["price_date"] = price_date.isoformat()
        summary["max_stores"] = config.max_stores
        summary["store_visit_cost"] = config.store_visit_cost
        summary["product_names"] = {key: names[key] for key, _ in basket}
        basket_id = "sample-" + str(config.basket_size)
        conn.execute(
            """
            insert into serving.basket_splits (basket_id, price_date, max_stores, store_visit_cost, status,
                split_total, best_single_store, best_single_store_total, saving, result)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (basket_id, price_date) do update set
                max_stores = excluded.max_stores, store_visit_cost = excluded.store_visit_cost,
                status = excluded.status, split_total = excluded.split_total,
                best_single_store = excluded.best_single_store,
                best_single_store_total = excluded.best_single_store_total,
                saving = excluded.saving, result = excluded.result, solved_at = now()
            """,
            (
                basket_id,
                price_date,
                config.max_stores,
                config.store_visit_cost,
                summary["status"],
                summary.get("total"),
                summary.get("best_single_store"),
                summary.get("best_single_total"),
                summary.get("saving"),
                Jsonb(summary),
            ),
        )
    out = warehouse.settings().outputs_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "sample_basket_split.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    context.log.info(json.dumps(summary, default=str))
    return dg.MaterializeResult(
        metadata={
            "status": summary["status"],
            "split_total": cents(summary.get("total")),
            "best_single_store_total": cents(summary.get("best_single_total")),
            "saving": cents(summary.get("saving")),
            "stores_used": len(summary.get("stores", [])),
            "split": dg.MetadataValue.json(rounded_to_cents(json.loads(json.dumps(summary, default=str)))),
            "dagster/row_count": 1,  # one serving.basket_splits row per sample basket and day
        }
    )
