"""Fast checks of the dbt project (no database).

`dbt parse` runs with dummy connection settings into a temporary target path,
and the manifest is checked for what the catalog mart promises: sellable marts
with enforced contracts, sources wired to Dagster asset keys, unit tests. The
models must also be clean under sqlfluff (jinja templater, configured in
dbt_project/.sqlfluff, so no database is needed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
CATALOG_MARTS = {
    "dim_store": "store_key",
    "dim_product": "product_key",
    "dim_retailer_product": "retailer_product_key",
    "dim_category": "category_key",
    "fct_prices_daily": "price_id",
    "fct_price_changes": "price_change_id",
    "fct_availability": "availability_event_id",
    "fct_promotions": "promotion_id",
    "fct_store_coverage": "store_coverage_id",
    "fct_price_observations": "observation_id",
    "mart_basket_index": "basket_index_id",
}
INCREMENTAL_FACTS = (
    "fct_prices_daily",
    "fct_price_changes",
    "fct_availability",
    "fct_promotions",
    "fct_store_coverage",
    "fct_price_observations",
)
RAW_TABLES = ("price_observations", "stores", "scrape_runs", "rejected_items")
CONNECTION_SETTINGS = ("HOST", "PORT", "USER", "PASSWORD", "DBNAME")
TARGETS = ("catalog", "behavior")


def _venv_tool(name: str) -> str | None:
    """The tool next to this interpreter (the project venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _dummy_connection_env() -> dict[str, str]:
    env = dict(os.environ)
    for target in TARGETS:
        for setting in CONNECTION_SETTINGS:
            env[f"SMARTCART_DBT_{target.upper()}_{setting}"] = "5432" if setting == "PORT" else "dummy"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dbt = _venv_tool("dbt")
    assert dbt, "dbt is not installed: run `uv sync` (dbt-core and dbt-postgres are project dependencies)"
    work = tmp_path_factory.mktemp("dbt_parse")
    result = subprocess.run(
        [
            dbt,
            "parse",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target",
            "catalog",
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--no-partial-parse",
        ],
        env=_dummy_connection_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout}\n{result.stderr}"
    return json.loads((work / "target" / "manifest.json").read_text())


def _model(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return manifest["nodes"][f"model.smartcart.{name}"]


@pytest.mark.parametrize("name", sorted(CATALOG_MARTS))
def test_catalog_marts_are_contracted_tables_in_catalog_schema(manifest: dict[str, Any], name: str) -> None:
    model = _model(manifest, name)
    expected = "incremental" if name in INCREMENTAL_FACTS else "table"
    assert model["config"]["materialized"] == expected
    # generate_schema_name override: `+schema: catalog` is the published schema readers use; dbt
    # writes it into the private catalog_build and the on-run-end hook publishes it (ADR 0024).
    assert model["config"]["schema"] == "catalog"
    assert model["schema"] == "catalog_build"
    assert "catalog" in model["tags"]
    assert model["config"]["contract"]["enforced"] is True
    assert model["description"].strip()
    assert model["columns"], f"{name} declares no columns"
    for column_name, column in model["columns"].items():
        assert column["data_type"], f"{name}.{column_name} has no data_type"
        assert column["description"].strip(), f"{name}.{column_name} has no description"


@pytest.mark.parametrize(("name", "key"), sorted(CATALOG_MARTS.items()))
def test_every_mart_key_is_unique_and_not_null(manifest: dict[str, Any], name: str, key: str) -> None:
    tests = {
        node["test_metadata"]["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("test_metadata")
        and node.get("attached_node") == f"model.smartcart.{name}"
        and node.get("column_name") == key
    }
    assert {"unique", "not_null"} <= tests


def test_fact_has_relationships_to_both_dimensions(manifest: dict[str, Any]) -> None:
    targets = {
        dependency
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "relationships"
        and node.get("attached_node") == "model.smartcart.fct_prices_daily"
        for dependency in node["depends_on"]["nodes"]
    }
    assert {"model.smartcart.dim_store", "model.smartcart.dim_product"} <= targets


@pytest.mark.parametrize("name", INCREMENTAL_FACTS)
def test_facts_are_incremental_over_the_day_window(manifest: dict[str, Any], name: str) -> None:
    model = _model(manifest, name)
    # The pre-hook deletes the window's days (even ones with no rows left), the model appends them.
    assert model["config"]["incremental_strategy"] == "append"
    [pre_hook] = model["config"]["pre-hook"]
    assert re.search(r"delete_(day_window|window_and_follow_ups)\(", pre_hook["sql"]), pre_hook
    assert pre_hook["transaction"] is True  # the delete commits with the insert, never alone
    assert "in_day_window" in model["raw_code"]


def test_every_catalog_model_and_column_is_documented(manifest: dict[str, Any]) -> None:
    catalog_models = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed") and "catalog" in n["tags"]
    ]
    assert len(catalog_models) >= 20
    for node in catalog_models:
        assert node["description"].strip(), f"{node['name']} has no description"
        assert node["columns"], f"{node['name']} documents no columns"
        for column_name, column in node["columns"].items():
            assert column["description"].strip(), f"{node['name']}.{column_name} has no description"


def test_match_method_accepted_values(manifest: dict[str, Any]) -> None:
    [values] = [
        node["test_metadata"]["kwargs"]["values"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "accepted_values"
        and node.get("attached_node") == "model.smartcart.dim_retailer_product"
        and node.get("column_name") == "match_method"
    ]
    assert sorted(values) == ["gtin", "name_price", "name_size", "retailer_key_history"]


def test_staging_models_are_views_in_staging_schema(manifest: dict[str, Any]) -> None:
    staging = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"].startswith("stg_")
    ]
    assert {n["name"] for n in staging} >= {
        "stg_scraped__price_observations",
        "stg_scraped__stores",
        "stg_crowd__price_reports",
    }
    for node in staging:
        assert node["config"]["materialized"] == "view"
        assert node["schema"] == "staging"


@pytest.mark.parametrize("table", RAW_TABLES)
def test_sources_carry_dagster_asset_keys(manifest: dict[str, Any], table: str) -> None:
    source = manifest["sources"][f"source.smartcart.scraped.{table}"]
    assert source["schema"] == "raw"
    meta = source["config"].get("meta") or source["meta"]
    assert meta["dagster"]["asset_key"] == ["catalog_raw", table]


def test_landing_sources_have_freshness(manifest: dict[str, Any]) -> None:
    for table, loaded_at in (
        ("price_observations", "fetched_at"),
        ("stores", "fetched_at"),
        ("scrape_runs", "started_at"),
    ):
        source = manifest["sources"][f"source.smartcart.scraped.{table}"]
        assert source["loaded_at_field"] == loaded_at
        assert source["freshness"]["warn_after"] == {"count": 2, "period": "day"}
        assert source["freshness"]["error_after"] == {"count": 7, "period": "day"}


def test_unit_tests_cover_matching_unit_prices_and_flags(manifest: dict[str, Any]) -> None:
    names = {(unit_test["model"], unit_test["name"]) for unit_test in manifest["unit_tests"].values()}
    assert {
        ("int_retailer_products_matched", "test_int_retailer_products_matched_rules"),
        ("int_price_observations_keyed", "test_int_price_observations_keyed_unit_prices"),
        ("fct_prices_daily", "test_fct_prices_daily_is_promotion"),
        ("fct_prices_daily", "test_fct_prices_daily_price_outlier_flag"),
        ("fct_promotions", "test_fct_promotions_omnibus_reference"),
        ("fct_price_changes", "test_fct_price_changes_shrinkflation_and_outlier_jump"),
        ("fct_price_observations", "test_fct_price_observations_trust_score"),
    } <= names


def test_profiles_take_every_connection_setting_from_env_without_defaults() -> None:
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["smartcart"]
    assert profile["target"] == "catalog"
    assert set(profile["outputs"]) == set(TARGETS)
    for target in TARGETS:
        output = profile["outputs"][target]
        assert output["type"] == "postgres"
        assert output["schema"] == "staging"
        for setting in CONNECTION_SETTINGS:
            # One argument only: a second env_var() argument would be a default.
            env_name = f"SMARTCART_DBT_{target.upper()}_{setting}"
            pattern = rf"\{{\{{\s*env_var\('{env_name}'\)\s*(\|\s*as_number\s*)?\}}\}}"
            assert re.fullmatch(pattern, output[setting.lower()]), (
                f"{target}.{setting.lower()}: {output[setting.lower()]!r}"
            )


def test_models_are_clean_under_sqlfluff() -> None:
    sqlfluff = _venv_tool("sqlfluff")
    if sqlfluff is None:
        pytest.skip("sqlfluff is a dev dependency: run `uv sync --group dev`")
    # Run from the project dir so its .sqlfluff (jinja templater) is the root config.
    result = subprocess.run(
        [sqlfluff, "lint", "models", "--disable-progress-bar"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"sqlfluff lint failed:\n{result.stdout}\n{result.stderr}"


def test_every_incremental_fact_with_product_keys_is_rekeyed_after_the_history(
    manifest: dict[str, Any],
) -> None:
    """ADR 0026: the re-keying post-hook reads int_product_key_history, so it must be built first."""
    rekeyed = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and "marts" in node["fqn"]
        and node["config"]["materialized"] == "incremental"
        and {"product_key", "retailer_product_key"} <= set(node["columns"])
    ]
    assert {node["name"] for node in rekeyed} >= set(INCREMENTAL_FACTS) - {"fct_store_coverage"}
    for node in rekeyed:
        assert "model.smartcart.int_product_key_history" in node["depends_on"]["nodes"], node["name"]
        assert any("rekey_retired_products" in hook["sql"] for hook in node["config"]["post-hook"])
