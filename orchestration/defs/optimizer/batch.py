"""Batch splits: every saved shopping list and the standard baskets, per region; results to catalog
serving.basket_splits and behaviour raw.optimizer_batch_results.

Partitioned by shard of regions (a region always falls in the same shard: optimizer.batch.region_shard),
so the executor, not a pool of our own, decides how many shards solve at once; each shard
replaces only its own regions' rows, so shards never overwrite each other and a re-run converges.
"""

import dagster as dg
from psycopg.types.json import Jsonb
from pydantic import Field

from optimizer.batch import (
    StandardLine,
    amount_snapshot,
    region_shard,
    region_snapshot,
    replay_saved_lists,
    saved_list_request,
    seed_basket,
    solve_batch,
    standard_baskets,
)
from optimizer.catalog import load_snapshot
from optimizer.service.search import refresh_product_search
from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from warehouse.platform.access.roles import Role

CATALOG_ROLE = Role.TRANSFORM  # reads the mart, writes serving
BEHAVIOR_ROLE = Role.INGEST  # the behaviour raw writer; reads the events it replays

BATCH_SHARDS = 4
batch_shards = dg.StaticPartitionsDefinition([f"shard-{n}-of-{BATCH_SHARDS}" for n in range(BATCH_SHARDS)])
# The batch solves on the current prices (catalog.fct_current_prices), built by the newest run.
MART = [
    dg.AssetDep(["catalog", table], partition_mapping=dg.LastPartitionMapping())
    for table in ("fct_current_prices", "dim_store", "dim_product")
]


def shard_number(partition_key: str) -> int:
    """'shard-2-of-4' -> 2."""
    return int(partition_key.split("-")[1])


SAVED_LIST_EVENTS_SQL = """
select event_type, anonymous_user_id, payload
from raw.app_events
where event_type in ('list_created', 'item_added', 'item_removed', 'substitution_chosen', 'optimizer_request')
order by occurred_at, event_id
"""


SEED_SQL = """
select basket_line, category_path, quantity::float8, package_unit
from staging.standard_basket
order by basket_line
"""
STORED_REGIONS_SQL = """
select distinct region from serving.basket_splits
where price_date = %s and basket_kind is not null and region is not null
"""
STORED_RESULT_REGIONS_SQL = "select distinct region from raw.optimizer_batch_results where price_date = %s"
PACKAGED_SQL = """
select product_key, category_path, package_unit, package_quantity::float8
from catalog.dim_product
where package_quantity > 0 and category_path is not null and package_unit is not null
"""


class BatchSplitConfig(dg.Config):
    store_visit_cost: float = Field(default=3.0, description="travel cost per store visited")
    max_stores: int = Field(default=3, description="K for standard baskets and lists without a request")


def _money(value):
    return None if value is None else round(float(value), 2)


@dg.asset(
    key=["optimizer", "basket_splits_batch"],
    deps=[*MART, dg.AssetKey(["behavior_raw", "app_events"])],  # saved lists come from app events
    group_name="optimizer_batch",
    kinds={"pyomo", "highs", "postgres"},
    owners=owners_of("optimizer"),
    partitions_def=batch_shards,
)
def basket_splits_batch(
    context: dg.AssetExecutionContext, config: BatchSplitConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The cheapest split of every saved shopping list and of the standard baskets, in each region of
    the partition's shard: serving.basket_splits (catalog) and raw.optimizer_batch_results (behaviour)."""
    shard = shard_number(context.partition_key)
    with warehouse.connect("catalog", CATALOG_ROLE) as conn:
        snapshot = load_snapshot(conn, None)
        seed_lines, packaged = [], {}
        if conn.execute("select to_regclass('staging.standard_basket')").fetchone()[0] is not None:
            seed_lines = [StandardLine(*row) for row in conn.execute(SEED_SQL)]
            packaged = {row[0]: tuple(row[1:]) for row in conn.execute(PACKAGED_SQL)}
    if not snapshot.offers:
        raise dg.Failure("no current prices in catalog.fct_current_prices: build the catalog mart first")
    with warehouse.connect("behavior", BEHAVIOR_ROLE) as conn:
        lists = replay_saved_lists(conn.execute(SAVED_LIST_EVENTS_SQL).fetchall())

    regions = sorted(
        region
        for region in {s.region or "unknown" for s in snapshot.stores}
        if region_shard(region, BATCH_SHARDS) == shard
    )
    snapshots = {region: region_snapshot(snapshot, region) for region in regions}
    known = set(snapshot.product_names)
    tasks, meta = [], {}
    for region in list(regions):
        if seed_lines:
            # basket_id 'standard:<region>' is what catalog.mart_basket_index reads.
            offered = {offer.product_key for offer in snapshots[region].offers}
            request, unfilled = seed_basket(
                seed_lines, packaged, offered, config.store_visit_cost, config.max_stores
            )
            if request is None:
                context.log.warning(f"standard basket not buyable in {region}: nothing sold for {unfilled}")
            else:
                snapshots[f"{region}#amount"] = amount_snapshot(snapshots[region], packaged)
                task_id = f"standard:{region}"
                tasks.append((task_id, f"{region}#amount", request.model_dump(mode="json"), True))
                meta[task_id] = ("standard", region, None, request)
        else:  # no seed loaded: the region's most widely stocked products
            for name, request in standard_baskets(
                snapshots[region], config.store_visit_cost, config.max_stores
            ):
                task_id = f"popular-{name}:{region}"
                tasks.append((task_id, region, request.model_dump(mode="json")))
                meta[task_id] = ("popular", region, None, request)
        for saved in lists.values():
            request = saved_list_request(saved, known, config.store_visit_cost, config.max_stores)
            if request is not None:
                task_id = f"list:{saved.list_id}:{region}"
                tasks.append((task_id, region, request.model_dump(mode="json")))
                meta[task_id] = ("saved_list", region, saved, request)
    results, seconds = solve_batch(tasks, snapshots)
    price_date = snapshot.price_date

    split_rows, behavior_rows = [], []
    for task_id, result in results.items():
        kind, region, saved, request = meta[task_id]
        single = result.get("best_single_store") or {}
        common = (
            result["status"],
            len(result.get("stores", [])) if result.get("total") is not None else None,
            _money(result.get("total")),
            _money(single.get("total")),
            _money(result.get("saving")),
        )
        split_rows.append(
            (task_id, price_date, request.max_stores, request.store_visit_cost, common[0], common[2],
             single.get("store"), common[3], common[4], Jsonb(result), kind, region, len(request.items), common[1])
        )  # fmt: skip
        if saved is not None:
            behavior_rows.append(
                (saved.list_id, saved.anonymous_user_id, region, price_date, len(request.items), *common)
            )

    with warehouse.connect("catalog", CATALOG_ROLE) as conn, conn.transaction():
        # This shard's regions only, including regions that no longer have stores (stale rows).
        stored = [r[0] for r in conn.execute(STORED_REGIONS_SQL, (price_date,))]
        owned = sorted({*regions, *(r for r in stored if region_shard(r, BATCH_SHARDS) == shard)})
        conn.execute(
            "delete from serving.basket_splits where price_date = %s and basket_kind is not null"
            " and region = any(%s)",
            (price_date, owned),
        )
        with conn.cursor() as cur:
            cur.executemany(
                """
                insert into serving.basket_splits (basket_id, price_date, max_stores, store_visit_cost, status,
                    split_total, best_single_store, best_single_store_total, saving, result, basket_kind,
                    region, items, stores_used)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                on conflict (basket_id, price_date) do update set max_stores = excluded.max_stores,
                    store_visit_cost = excluded.store_visit_cost, status = excluded.status,
                    split_total = excluded.split_total, best_single_store = excluded.best_single_store,
                    best_single_store_total = excluded.best_single_store_total, saving = excluded.saving,
                    result = excluded.result, basket_kind = excluded.basket_kind, region = excluded.region,
                    items = excluded.items, stores_used = excluded.stores_used, solved_at = now()
                """,
                split_rows,
            )
    with warehouse.connect("behavior", BEHAVIOR_ROLE) as conn, conn.transaction():
        stored = [r[0] for r in conn.execute(STORED_RESULT_REGIONS_SQL, (price_date,))]
        owned_results = sorted({*regions, *(r for r in stored if region_shard(r, BATCH_SHARDS) == shard)})
        conn.execute(
            "delete from raw.optimizer_batch_results where price_date = %s and region = any(%s)",
            (price_date, owned_results),
        )
        with conn.cursor() as cur:
            cur.executemany(
                """
                insert into raw.optimizer_batch_results (list_id, anonymous_user_id, region, price_date, items,
                    status, stores_used, split_total, best_single_store_total, saving)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                behavior_rows,
            )
    optimal = sum(1 for r in results.values() if r["status"] == "optimal")
    context.log.info(f"{len(tasks)} baskets of {len(regions)} regions in {seconds:.2f}s ({optimal} optimal)")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(split_rows),
            "shard": context.partition_key,
            "region_names": ", ".join(regions) or "(no region in this shard)",
            "baskets": len(tasks),
            "saved_lists": len(lists),
            "regions": len(regions),
            "optimal": optimal,
            "price_date": str(price_date),
            "baskets_per_second": round(len(tasks) / seconds, 1) if seconds > 0 else None,
        }
    )


@dg.asset(
    key=["optimizer", "product_search_index"],
    deps=[dg.AssetKey(["catalog", "dim_product"])],
    group_name="optimizer_batch",
    kinds={"postgres"},
    owners=owners_of("optimizer"),
)
def product_search_index(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """serving.product_search (trigram-indexed copy of dim_product) for GET /api/products/search."""
    with warehouse.connect("catalog", CATALOG_ROLE) as conn:
        refreshed = refresh_product_search(conn)
        rows = conn.execute("select count(*) from serving.product_search").fetchone()[0]
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "rows": rows, "refreshed": refreshed})


optimizer_batch_job = dg.define_asset_job(
    "optimizer_batch",
    selection=dg.AssetSelection.assets(basket_splits_batch),
    description="Split every saved shopping list and the standard baskets of one shard of regions "
    "(a run per shard: the run queue runs shards side by side).",
)
product_search_job = dg.define_asset_job(
    "product_search_refresh",
    selection=dg.AssetSelection.assets(product_search_index),
    description="Refresh serving.product_search from catalog.dim_product.",
)


@dg.schedule(
    job=optimizer_batch_job,
    cron_schedule="30 6 * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning after the crawl: one batch run per shard, queued side by side.",
)
def optimizer_batch_schedule(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.strftime("%Y%m%d")
    for key in batch_shards.get_partition_keys():
        yield dg.RunRequest(run_key=f"{tick}-{key}", partition_key=key)


product_search_schedule = dg.ScheduleDefinition(
    job=product_search_job,
    cron_schedule="30 6 * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning after the crawl: refresh product search.",
)
