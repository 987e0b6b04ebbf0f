"""catalog.mart_basket_index against a hand-computed small case, computed by dbt on the real cluster.

The case is the dbt unit test ``test_mart_basket_index_hand_computed`` (marts/catalog/_catalog__models.yml):
dbt runs the model's SQL on the embedded PostgreSQL with the fixture rows in place of its inputs.
Basket: 2 l milk, 1 kg bread, 12 eggs. Region VIC, week of Monday 2026-11-16:

- s1: milk 1.50/l -> 3.00; bread 4.00 and 5.00 /kg on two days -> avg 4.50; eggs 0.50 -> 6.00; total 13.50
- s2: milk 1.20 -> 2.40; bread 3.00 (its 0.10/each bread does not count); eggs 0.60 -> 7.20; total 12.60
- s5: milk 2.00 -> 4.00; bread 6.00; eggs 0.40 -> 4.80; total 14.80
- s3 has no eggs, so it does not price the basket.

Cheapest s2 12.60, median 13.50, saving 0.90 = 6.7 %. Batch splits (standard:VIC): 12.00 / 9.00 goods /
single 12.50 on the 16th, 11.00 / 8.00 / 11.50 on the 17th (an infeasible 18th, a saved list and the
sample basket ignored): split 11.50, goods 8.50, single 12.00, saving 0.50 = 4.2 %, stores of the 17th
"s2,s5". Region NSW: one branch s4 at 2.00 + 2.50 + 6.00 = 10.50, saving 0, no split (nulls).
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

UNIT_TEST = "test_mart_basket_index_hand_computed"


def test_basket_index_matches_the_hand_computed_case(warehouse_settings, tmp_path, catalog_tools):
    # dbt unit tests read their inputs' column types from the warehouse: build the parents (raw is empty).
    parents = catalog_tools.run_dbt(
        warehouse_settings, ["build", "--select", "+mart_basket_index", "--exclude", "mart_basket_index",
                             "--exclude-resource-type", "test", "unit_test"], tmp_path,
    )  # fmt: skip
    assert parents.returncode == 0, f"building the parents failed:\n{parents.stdout[-4000:]}"
    result = catalog_tools.run_dbt(
        warehouse_settings, ["test", "--select", "mart_basket_index,test_type:unit"], tmp_path
    )
    run_results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    statuses = {entry["unique_id"].rsplit(".", 1)[-1]: entry["status"] for entry in run_results["results"]}
    print(f"basket index unit test: {statuses}")
    assert statuses.get(UNIT_TEST) == "pass", f"dbt output:\n{result.stdout[-6000:]}"
    assert result.returncode == 0
