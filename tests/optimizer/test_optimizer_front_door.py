"""`smartcart optimize --basket` against a real catalog mart, read as smartcart_app_api."""

from __future__ import annotations

import json

import psycopg
import pytest

from optimizer.catalog import APP_ROLE, load_snapshot
from optimizer.cli import main

pytestmark = pytest.mark.integration


def _run(tmp_path, capsys, basket, *extra):
    path = tmp_path / "basket.json"
    path.write_text(json.dumps(basket) if not isinstance(basket, str) else basket)
    code = main(["optimize", "--basket", str(path), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_basket_split_printed_per_store(mini_catalog, tmp_path, capsys):
    basket = {
        "items": [
            {"product_key": "opt-milk", "quantity": 2},
            {"product_key": "opt-cheddar"},
            {"product_key": "opt-eggs"},
            {"product_key": "opt-bread"},
        ],
        "postcode": "3000",
        "radius_km": 10,
        "max_stores": 2,
        "cost_per_km": 0.1,
    }
    code, out, err = _run(tmp_path, capsys, basket)
    assert code == 0, err
    # Within 10 km of 3000: opt-s1 (0 km) and opt-s2 (~1.5 km); Geelong and Sydney are out.
    assert "Optimart Central" in out and "Thriftco Carlton" in out and "Geelong" not in out
    assert "subtotal" in out and "best single store: Optimart Central" in out and "saving:" in out
    code, out, _ = _run(tmp_path, capsys, basket, "--json")
    result = json.loads(out)
    assert result["status"] == "optimal" and result["price_date"] == "2026-03-02"
    lines = {
        line["product_key"]: (store["store_key"], line["cost"])
        for store in result["stores"]
        for line in store["items"]
    }
    # cheddar only at s1 (the older 0.10 price is ignored); milk x2 cheaper at s2; eggs at s2.
    assert lines["opt-cheddar"] == ("opt-s1", 6.50)
    assert lines["opt-milk"] == ("opt-s2", 5.20) and lines["opt-eggs"] == ("opt-s2", 5.10)
    assert result["total"] == pytest.approx(result["items_total"] + result["travel_total"])
    assert result["saving"] == pytest.approx(
        result["best_single_store"]["total"] - result["total"], abs=0.011
    )


@pytest.mark.parametrize(
    "basket,message",
    [
        ({"items": [{"product_key": "opt-milk"}, {"product_key": "no-such-thing"}]}, "unknown product id(s): no-such-thing"),
        ({"items": [{"product_key": "opt-milk"}], "postcode": "3000", "radius_km": 0.5, "retailers": ["thriftco"]}, "no store of thriftco within 0.5 km of 3000"),
        ({"items": [{"product_key": "opt-milk"}], "postcode": "9999"}, "postcode '9999' is not known"),
        ({"items": [{"product_key": "opt-milk", "quantity": -1}]}, "items.0.quantity"),
        ("{not json", "is not valid JSON"),
    ],
)  # fmt: skip
def test_basket_errors_exit_2(mini_catalog, tmp_path, capsys, basket, message):
    code, out, err = _run(tmp_path, capsys, basket)
    assert code == 2 and message in err and out == ""


def test_infeasible_basket_names_the_item(mini_catalog, tmp_path, capsys):
    basket = {
        "items": [{"product_key": "opt-eggs"}],
        "retailers": ["thriftco"],
        "postcode": "3220",
        "radius_km": 5,
    }
    code, out, _ = _run(tmp_path, capsys, basket, "--json")
    result = json.loads(out)
    assert code == 1 and result["status"] == "infeasible"
    assert result["infeasible_item"] == {"product_key": "opt-eggs", "product_name": "Free Range Eggs 12 pack"}


def test_app_role_reads_the_mart_but_cannot_write_it(mini_catalog, warehouse_settings):
    with psycopg.connect(warehouse_settings.database_url("catalog", APP_ROLE), autocommit=True) as conn:
        snapshot = load_snapshot(conn, ["opt-milk"])
        assert {o.store_key for o in snapshot.offers} >= {"opt-s1", "opt-s2", "opt-s3", "opt-s4"}
        conn.execute("select count(*) from serving.optimizer_cache")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from catalog.fct_prices_daily")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # dbt's private build schema
            conn.execute("select 1 from catalog_build.fct_prices_daily limit 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw.price_observations limit 1")


def test_smartcart_entry_point_dispatches_optimize(mini_catalog, tmp_path, capsys):
    from orchestration.cli import main as smartcart

    path = tmp_path / "basket.json"
    path.write_text(json.dumps({"items": [{"product_key": "opt-bread"}], "retailers": ["thriftco"]}))
    assert smartcart(["optimize", "--basket", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["stores"][0]["store_key"] == "opt-s3" and result["total"] == 3.10


def test_snapshot_cache_serves_what_load_snapshot_reads_until_the_prices_move(
    mini_catalog, warehouse_settings
):
    """The HTTP front door's in-memory snapshots equal a fresh read, and a rebuilt mart is re-read."""
    from optimizer.catalog import SnapshotCache, prices_version

    def as_sets(snapshot):
        offers = {(o.store_key, o.product_key, o.price, o.pack_size) for o in snapshot.offers}
        return offers, snapshot.product_names, [s.store_key for s in snapshot.stores]

    cache = SnapshotCache(max_products=2)
    keys = ["opt-milk", "opt-cheddar", "opt-oat"]
    with psycopg.connect(warehouse_settings.database_url("catalog", APP_ROLE), autocommit=True) as conn:
        version = prices_version(conn)
        for wanted in (keys[:2], keys, keys[1:], keys):  # more keys than the cache holds: evictions
            assert as_sets(cache.load(conn, wanted, version)) == as_sets(load_snapshot(conn, wanted))
    mini_catalog.add_price("opt-s3", "opt-oat", 0.01, day="2026-03-03")  # a later day: now current
    mini_catalog.publish()
    try:
        with psycopg.connect(warehouse_settings.database_url("catalog", APP_ROLE), autocommit=True) as conn:
            moved = prices_version(conn)
            assert moved != version
            fresh = as_sets(cache.load(conn, keys, moved))
            assert fresh == as_sets(load_snapshot(conn, keys))
            assert ("opt-s3", "opt-oat", 0.01, 1) in fresh[0]
    finally:
        with mini_catalog.connect() as conn:
            conn.execute(
                "delete from catalog_build.fct_prices_daily where price_id = %s",
                ("opt-2026-03-03-opt-s3-opt-oat",),
            )
        mini_catalog.publish()
