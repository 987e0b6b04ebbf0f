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
CATALOG_MARTS = ("dim_store", "dim_product", "fct_prices_daily")
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


@pytest.mark.parametrize("name", CATALOG_MARTS)
def test_catalog_marts_are_contracted_tables_in_catalog_schema(manifest: dict[str, Any], name: str) -> None:
    model = _model(manifest, name)
    assert model["config"]["materialized"] == "table"
    # generate_schema_name override: `+schema: catalog` means exactly `catalog`.
    assert model["schema"] == "catalog"
    assert "catalog" in model["tags"]
    assert model["config"]["contract"]["enforced"] is True
    assert model["description"].strip()
    assert model["columns"], f"{name} declares no columns"
    for column_name, column in model["columns"].items():
        assert column["data_type"], f"{name}.{column_name} has no data_type"
        assert column["description"].strip(), f"{name}.{column_name} has no description"


@pytest.mark.parametrize(
    ("name", "key"),
    [("dim_store", "store_key"), ("dim_product", "product_key"), ("fct_prices_daily", "price_id")],
)
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


def test_staging_models_are_views_in_staging_schema(manifest: dict[str, Any]) -> None:
    staging = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"].startswith("stg_")
    ]
    assert {n["name"] for n in staging} >= {"stg_scraped__price_observations", "stg_scraped__stores"}
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


def test_fact_has_unit_tests_for_promotion_and_run_filter(manifest: dict[str, Any]) -> None:
    names = {
        unit_test["name"]
        for unit_test in manifest["unit_tests"].values()
        if unit_test["model"] == "fct_prices_daily"
    }
    assert {"test_fct_prices_daily_is_promotion", "test_fct_prices_daily_only_succeeded_runs"} <= names


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
