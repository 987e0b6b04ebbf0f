"""Basket front door without a database: pack sizes, distance travel cost, substitutes, errors."""

from __future__ import annotations

import itertools
import math

import pytest
from pydantic import ValidationError

from optimizer.geo import PostcodeCentroids, haversine_km
from optimizer.pricing import PackOffer, cheapest_packs
from optimizer.shopping import (
    BasketError,
    BasketRequest,
    format_result,
    optimize_basket,
    price_basket,
    snapshot_from_rows,
)

# Three stores on a line of latitude at 0, ~11.1 km and ~22.2 km east of postcode 3000.
STORES = [
    ("s-near", "freshmart", "1", "Near", "3000", -37.8, 144.9, "VIC"),
    ("s-mid", "valueco", "2", "Mid", "3001", -37.8, 145.0262, "VIC"),
    ("s-far", "valueco", "3", "Far", "3002", -37.8, 145.1524, "VIC"),
]
NAMES = {"milk": "Milk 1 l", "eggs": "Eggs 12", "oat": "Oat drink 1 l", "bread": "Bread"}


def snapshot(offers):
    return snapshot_from_rows(STORES, offers, NAMES, prices_version="v1", price_date="2026-03-02")


def basket(**fields) -> BasketRequest:
    return BasketRequest.model_validate(fields)


# --- pack sizes -------------------------------------------------------------------------------
def test_need_three_sold_in_twos_buys_two_packs():
    choice = cheapest_packs(3, [PackOffer(price=2.0, pack_size=2)])
    assert choice.cost == 4.0 and choice.packs == ((2, 2, 2.0),) and choice.units == 4


def test_mixed_pack_sizes_take_the_cheapest_combination():
    offers = [PackOffer(1.5, 1), PackOffer(2.0, 2), PackOffer(5.5, 6)]
    # exhaustive check against every combination up to the quantity
    for quantity in range(1, 15):
        best = min(
            a * 1.5 + b * 2.0 + c * 5.5
            for a, b, c in itertools.product(range(16), range(9), range(4))
            if a + 2 * b + 6 * c >= quantity
        )
        assert cheapest_packs(quantity, offers).cost == pytest.approx(best), quantity
    assert cheapest_packs(3, offers).packs == ((1, 1, 1.5), (2, 1, 2.0))


def test_pack_rules_reject_nonsense():
    assert cheapest_packs(2, []) is None
    with pytest.raises(ValueError):
        cheapest_packs(0, [PackOffer(1.0)])
    with pytest.raises(ValueError):
        cheapest_packs(1, [PackOffer(1.0, 0)])


def test_pack_size_flows_into_the_split():
    offers = [("s-near", "eggs", 3.0, 2), ("s-mid", "eggs", 1.6, 1)]
    result = optimize_basket(
        basket(items=[{"product_key": "eggs", "quantity": 3}], max_stores=1), snapshot(offers)
    )
    # near: 2 packs of 2 = 6.00; mid: 3 x 1.60 = 4.80 (no travel without a postcode)
    assert result["status"] == "optimal"
    (store,) = result["stores"]
    assert store["store_key"] == "s-mid" and store["subtotal"] == pytest.approx(4.8)
    offers[1] = ("s-mid", "eggs", 2.2, 1)
    result = optimize_basket(
        basket(items=[{"product_key": "eggs", "quantity": 3}], max_stores=1), snapshot(offers)
    )
    (store,) = result["stores"]
    assert store["store_key"] == "s-near" and store["items"][0]["packs"] == [
        {"pack_size": 2, "count": 2, "pack_price": 3.0}
    ]


# --- distance travel cost ---------------------------------------------------------------------
def test_haversine_and_postcode_centroids():
    assert haversine_km(-37.8, 144.9, -37.8, 144.9) == 0
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.195, rel=1e-3)
    centroids = PostcodeCentroids.from_stores(
        [("3000", -37.0, 144.0), ("3000", -38.0, 145.0), ("2000", -33.9, 151.2)]
    )
    assert centroids.locate("3000") == (-37.5, 144.5)
    assert centroids.locate("3099") == (-37.5, 144.5)  # shares "30"
    assert centroids.locate("9999") is None


def test_travel_cost_is_round_trip_distance_times_cost_per_km():
    offers = [("s-near", "milk", 2.0, 1), ("s-far", "milk", 1.0, 1)]
    request = basket(items=[{"product_key": "milk"}], postcode="3000", cost_per_km=0.1, store_visit_cost=0.5)
    priced = price_basket(request, snapshot(offers))
    far_km = haversine_km(-37.8, 144.9, -37.8, 145.1524)
    assert priced.distance_km["s-far"] == pytest.approx(far_km)
    assert priced.problem.store_cost[2] == pytest.approx(0.5 + 0.1 * 2 * far_km, abs=1e-5)
    result = optimize_basket(request, snapshot(offers))
    # near: 2.0 + 0.5 = 2.50; far: 1.0 + 0.5 + 0.2 * 22.2 = 5.94 -> near
    assert result["stores"][0]["store_key"] == "s-near" and result["total"] == pytest.approx(2.5)
    cheap_travel = optimize_basket(request.model_copy(update={"cost_per_km": 0.01}), snapshot(offers))
    assert cheap_travel["stores"][0]["store_key"] == "s-far"


def test_radius_and_retailers_filter_stores():
    offers = [(s, "milk", 1.0, 1) for s in ("s-near", "s-mid", "s-far")]
    priced = price_basket(
        basket(items=[{"product_key": "milk"}], postcode="3000", radius_km=15), snapshot(offers)
    )
    assert priced.problem.stores == ["s-near", "s-mid"]
    priced = price_basket(basket(items=[{"product_key": "milk"}], retailers=["ValueCo"]), snapshot(offers))
    assert priced.problem.stores == ["s-mid", "s-far"]


# --- substitutes, budget, K -------------------------------------------------------------------
def test_substitute_bought_in_the_same_quantity():
    offers = [("s-near", "milk", 2.0, 1), ("s-near", "oat", 1.5, 1), ("s-near", "eggs", 3.0, 1)]
    request = basket(
        items=[{"product_key": "milk", "quantity": 2, "substitutes": ["oat"]}, {"product_key": "eggs"}]
    )
    result = optimize_basket(request, snapshot(offers))
    lines = {line["product_key"]: line for line in result["stores"][0]["items"]}
    assert lines["oat"]["substitute_for"] == "milk" and lines["oat"]["cost"] == pytest.approx(3.0)
    assert result["total"] == pytest.approx(6.0)
    assert "Oat drink 1 l (instead of Milk 1 l): 2 @ 1.50 = 3.00" in format_result(result)


def test_budget_and_k_infeasible_name_the_item():
    offers = [("s-near", "milk", 2.0, 1), ("s-far", "bread", 3.0, 1)]
    items = [{"product_key": "milk"}, {"product_key": "bread"}]
    result = optimize_basket(basket(items=items, max_stores=1), snapshot(offers))
    assert result["status"] == "infeasible" and "at most 1 stores" in result["message"]
    assert result["infeasible_item"]["product_key"] in ("milk", "bread")
    result = optimize_basket(basket(items=items, max_stores=2, budget=4.0), snapshot(offers))
    assert result["status"] == "infeasible" and "budget" in result["message"]
    result = optimize_basket(basket(items=[*items, {"product_key": "eggs"}]), snapshot(offers))
    assert result["status"] == "infeasible" and result["infeasible_item"]["product_key"] == "eggs"


def test_split_beats_best_single_store_with_saving():
    offers = [
        ("s-near", "milk", 1.0, 1), ("s-near", "bread", 4.0, 1),
        ("s-mid", "milk", 3.0, 1), ("s-mid", "bread", 1.0, 1),
    ]  # fmt: skip
    result = optimize_basket(
        basket(items=[{"product_key": "milk"}, {"product_key": "bread"}], store_visit_cost=0.5),
        snapshot(offers),
    )
    assert result["total"] == pytest.approx(3.0)
    assert result["best_single_store"]["total"] == pytest.approx(4.5)
    assert result["saving"] == pytest.approx(1.5)
    assert sum(store["subtotal"] for store in result["stores"]) == pytest.approx(result["items_total"])


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields,code,words",
    [
        ({"items": [{"product_key": "nope"}, {"product_key": "milk", "substitutes": ["gone"]}]}, "unknown_products", "nope, gone"),
        ({"items": [{"product_key": "milk"}], "postcode": "9999"}, "unknown_postcode", "9999"),
        ({"items": [{"product_key": "milk"}], "postcode": "3000", "radius_km": 5, "retailers": ["valueco"]}, "no_store", "no store of valueco within 5 km of 3000"),
        ({"items": [{"product_key": "milk"}], "retailers": ["acme"]}, "unknown_retailers", "acme"),
    ],
)  # fmt: skip
def test_basket_errors_are_named(fields, code, words):
    with pytest.raises(BasketError) as info:
        price_basket(basket(**fields), snapshot([("s-near", "milk", 1.0, 1)]))
    assert info.value.code == code and words in str(info.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"items": []},
        {"items": [{"product_key": "milk", "quantity": 0}]},
        {"items": [{"product_key": "milk"}], "radius_km": 5},
        {"items": [{"product_key": "milk"}], "colour": "red"},
        {"items": [{"product_key": "milk"}], "max_stores": 0},
        {"items": [{"product_key": "milk"}], "postcode": "30;00"},
    ],
)
def test_request_validation(fields):
    with pytest.raises(ValidationError):
        BasketRequest.model_validate(fields)


def test_duplicate_items_add_up():
    request = basket(items=[{"product_key": "milk", "quantity": 2}, {"product_key": "milk", "quantity": 1}])
    priced = price_basket(request, snapshot([("s-near", "milk", 1.0, 1)]))
    assert priced.problem.items == ["milk"] and priced.problem.cost[0][0] == 3.0
    assert not math.isnan(priced.problem.cost_array[0][0])
