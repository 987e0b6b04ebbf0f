"""The optimizer's Dagster definitions: the on-demand basket job and the batch asset."""

from __future__ import annotations

import json
import uuid

import dagster as dg
import psycopg
import pytest

from optimizer.batch import replay_saved_lists
from orchestration.defs.optimizer.batch import basket_splits_batch, batch_shards, product_search_index
from orchestration.defs.optimizer.jobs import optimize_basket_job
from orchestration.defs.resources import WarehouseResource


def test_replay_saved_lists():
    events = [
        ("list_created", "u1", {"list_id": "L1", "list_name": "weekly"}),
        ("item_added", "u1", {"list_id": "L1", "product_key": "milk", "quantity": 2}),
        ("item_added", "u1", {"list_id": "L1", "product_key": "eggs", "quantity": 1}),
        ("item_added", "u1", {"list_id": "L1", "product_key": "milk", "quantity": 1}),
        ("item_removed", "u1", {"list_id": "L1", "product_key": "eggs"}),
        ("substitution_chosen", "u1", {"list_id": "L1", "from_product_key": "milk", "to_product_key": "oat"}),
        ("optimizer_request", "u1", {"list_id": "L1", "postcode": "3000", "max_stores": 2}),
        ("preference_set", "u1", {"preference": "organic", "value": True}),
    ]
    (saved,) = replay_saved_lists(events).values()
    assert saved.quantities == {"milk": 3} and saved.substitutes == {"milk": ["oat"]}
    assert saved.max_stores == 2 and saved.postcode == "3000" and saved.anonymous_user_id == "u1"


@pytest.mark.integration
def test_on_demand_job_takes_a_basket_as_run_config(mini_catalog):
    basket = {
        "items": [{"product_key": "opt-milk", "quantity": 2}, {"product_key": "opt-bread"}],
        "postcode": "3000",
        "radius_km": 10,
    }
    result = optimize_basket_job.execute_in_process(
        run_config={"ops": {"optimize_basket_op": {"config": basket}}},
        resources={"warehouse": WarehouseResource()},
    )
    assert result.success
    split = result.output_for_node("optimize_basket_op")
    assert split["status"] == "optimal" and split["stores"]
    bad = optimize_basket_job.execute_in_process(
        run_config={"ops": {"optimize_basket_op": {"config": {"items": [{"product_key": "nope"}]}}}},
        resources={"warehouse": WarehouseResource()},
        raise_on_error=False,
    )
    assert not bad.success
    failure = next(e for e in bad.all_events if e.event_type_value == "STEP_FAILURE")
    assert "unknown product id(s): nope" in failure.event_specific_data.error.message


@pytest.mark.integration
@pytest.mark.slow
def test_batch_splits_saved_lists_and_standard_baskets(mini_catalog, warehouse_settings):
    admin = warehouse_settings.database_url("behavior")
    anon = str(uuid.uuid4())
    events = [
        ("list_created", {"list_id": "opt-L1", "list_name": "weekly"}),
        ("item_added", {"list_id": "opt-L1", "product_key": "opt-milk", "quantity": 2}),
        ("item_added", {"list_id": "opt-L1", "product_key": "opt-eggs", "quantity": 1}),
        ("item_added", {"list_id": "opt-L1", "product_key": "unknown-product", "quantity": 1}),
        ("item_added", {"list_id": "opt-L1", "product_key": "opt-cheddar", "quantity": 1}),
        ("item_removed", {"list_id": "opt-L1", "product_key": "opt-cheddar"}),
        ("optimizer_request", {"list_id": "opt-L1", "postcode": "3000", "max_stores": 2}),
    ]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "insert into raw.event_files values ('opt-sha', 'opt.jsonl', %s) on conflict do nothing",
            (len(events),),
        )
        for n, (event_type, payload) in enumerate(events):
            conn.execute(
                "insert into raw.app_events values (%s, %s, %s, now() + make_interval(secs => %s), %s, 'opt-sha')",
                (f"opt-e{n}", anon, event_type, n, json.dumps(payload)),
            )
    try:
        # One run per shard of regions, as the schedule and a backfill launch them; no pool of its own.
        for shard in batch_shards.get_partition_keys():
            result = dg.materialize(
                [basket_splits_batch], resources={"warehouse": WarehouseResource()}, partition_key=shard
            )
            assert result.success
        assert dg.materialize([product_search_index], resources={"warehouse": WarehouseResource()}).success
        with psycopg.connect(warehouse_settings.database_url("catalog"), autocommit=True) as conn:
            rows = conn.execute(
                "select basket_id, basket_kind, region, status, items from serving.basket_splits"
                " where basket_kind is not null"
            ).fetchall()
            standard = conn.execute(
                "select result from serving.basket_splits where basket_id = 'standard:VIC'"
            ).fetchone()[0]
        by_id = {row[0]: row for row in rows}
        # The seed's basket (4 l milk, 0.5 kg cheese) per region, as catalog.mart_basket_index reads it.
        assert by_id["standard:VIC"][1:] == ("standard", "VIC", "optimal", 2)
        lines = {line["product_key"]: line for store in standard["stores"] for line in store["items"]}
        milk = lines.get("opt-milk") or lines["opt-oat"]
        assert sum(p["pack_size"] * p["count"] for p in milk["packs"]) >= 4000  # whole packs cover 4 l
        assert by_id["list:opt-L1:VIC"][1:] == ("saved_list", "VIC", "optimal", 2)  # unknown product left out
        assert by_id["list:opt-L1:NSW"][3] == "optimal"
        with psycopg.connect(admin, autocommit=True) as conn:
            rows = conn.execute(
                "select region, anonymous_user_id::text, items, status, saving from raw.optimizer_batch_results"
                " where list_id = 'opt-L1' order by region"
            ).fetchall()
        assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
            ("NSW", anon, 2, "optimal"),
            ("VIC", anon, 2, "optimal"),
        ]
        assert all(r[4] is not None and r[4] >= 0 for r in rows)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("delete from raw.optimizer_batch_results where list_id like 'opt-%'")
            conn.execute("delete from raw.app_events where file_sha256 = 'opt-sha'")
            conn.execute("delete from raw.event_files where file_sha256 = 'opt-sha'")


def test_seed_basket_buys_whole_packages_covering_the_amount():
    from optimizer.batch import StandardLine, amount_snapshot, seed_basket
    from optimizer.shopping import optimize_basket, snapshot_from_rows

    stores = [
        ("s1", "r", "1", "One", "3000", -37.8, 144.9, "VIC"),
        ("s2", "r", "2", "Two", "3001", -37.8, 145.0, "VIC"),
    ]
    packaged = {
        "milk2": ("Dairy > Milk", "l", 2.0),
        "milk1": ("Dairy > Milk", "l", 1.0),
        "cheese": ("Dairy > Cheese", "kg", 0.25),
    }
    offers = [
        ("s1", "milk2", 3.0, 1),
        ("s1", "milk1", 1.4, 1),
        ("s2", "milk1", 1.2, 1),
        ("s1", "cheese", 2.0, 1),
    ]
    snapshot = snapshot_from_rows(stores, offers, {k: k for k in packaged})
    lines = [
        StandardLine("milk", "Dairy > Milk", 3, "l"),
        StandardLine("cheese", "Dairy > Cheese", 0.5, "kg"),
    ]
    request, unfilled = seed_basket(lines, packaged, {o[1] for o in offers}, store_visit_cost=0, max_stores=1)
    assert unfilled == [] and [i.product_key for i in request.items] == ["milk1", "cheese"]
    assert request.items[0].substitutes == ["milk2"] and request.items[0].quantity == 3000
    result = optimize_basket(request, amount_snapshot(snapshot, packaged))
    # s1 only (cheese): milk 3 l = 2 x 2 l at 3.00 (6.00) vs 3 x 1 l at 1.40 (4.20) -> 4.20; cheese 2 x 0.25 kg
    assert result["status"] == "optimal" and result["total"] == pytest.approx(4.2 + 4.0)
    request, unfilled = seed_basket(
        [*lines, StandardLine("eggs", "Pantry > Eggs", 12, "each")], packaged, {o[1] for o in offers}, 0, 1
    )
    assert request is None and unfilled == ["eggs"]
