"""The code location as a user meets it in the UI: every asset and check described and owned, no
warnings at load, the on-demand basket job's launchpad valid as it opens, money shown in cents."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import dagster as dg

from orchestration.defs.metadata import cents, rounded_to_cents
from orchestration.defs.optimizer.jobs import EXAMPLE_BASKET
from warehouse.platform.config import REPO_ROOT


def _asset_graph():
    from orchestration.definitions import defs

    return defs.get_repository_def().asset_graph


def test_every_asset_has_a_description_and_owners():
    graph = _asset_graph()
    undescribed, unowned = [], []
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not (node.description or "").strip():
            undescribed.append(key.to_user_string())
        if not node.owners:
            unowned.append(key.to_user_string())
    assert undescribed == [], f"assets without a description: {sorted(undescribed)}"
    assert unowned == [], f"assets without owners: {sorted(unowned)}"


def test_every_asset_check_has_a_description():
    graph = _asset_graph()
    missing = [
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in graph.asset_check_keys
        if not (graph.get_check_spec(key).description or "").strip()
    ]
    assert missing == [], (
        f"asset checks without a description: {sorted(missing)[:20]} ({len(missing)} in all)"
    )


def test_the_code_location_loads_without_warnings():
    """A fresh interpreter with every warning an error: importing the definitions and resolving the
    repository (what `dagster api grpc` does) must not warn."""
    script = (
        "from orchestration.definitions import defs\n"
        "repo = defs.get_repository_def()\n"
        "repo.get_all_jobs()\n"
        "print(len(repo.asset_graph.get_all_asset_keys()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) > 0


def test_the_basket_job_default_config_validates():
    from orchestration.definitions import defs

    job = defs.get_job_def("optimize_basket_job")
    # What the launchpad opens with: no config typed yet (it must not say "Missing required config
    # entry 'items'"); the job's default config fills the basket.
    config = dg.validate_run_config(job, {})
    basket = config["ops"]["optimize_basket_op"]["config"]
    assert [item["product_key"] for item in basket["items"]] == [
        i["product_key"] for i in EXAMPLE_BASKET["items"]
    ]
    # The example is a valid basket for the optimizer's own request model too.
    from optimizer.shopping import BasketRequest

    assert BasketRequest.model_validate(basket).product_keys()


def test_the_example_basket_names_demo_market_products():
    """The example keys are the catalog's keys (md5 of 'gtin:' + 14-digit GTIN) of real demo-market
    products, so the example runs against a demo catalog."""
    from scrapers.demo_market.catalogue import Catalogue

    catalogue = Catalogue()
    demo_keys = {
        hashlib.md5(f"gtin:{p.true_gtin.zfill(14)}".encode()).hexdigest()
        for p in (catalogue.product(i) for i in range(50))
        if p.true_gtin
    }
    assert {item["product_key"] for item in EXAMPLE_BASKET["items"]} <= demo_keys


def test_money_in_metadata_is_rounded_to_cents():
    assert cents(87.47999999999999) == 87.48
    assert cents(0.125) == 0.13  # half-up, not banker's rounding of a binary float
    assert cents(None) is None
    split = {"total": 87.47999999999999, "stores": [{"store": "a", "total": 10.004, "items": 3}]}
    assert rounded_to_cents(split) == {"total": 87.48, "stores": [{"store": "a", "total": 10.0, "items": 3}]}
