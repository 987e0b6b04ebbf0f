"""One k-threshold (SMARTCART_K_THRESHOLD, read by Settings.from_env) reaches the dbt build's vars,
the Great Expectations trends suites and the privacy scan: change it once, all three follow."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid

import psycopg
import pytest

from orchestration.defs.dbt.resources import WarehouseDbtCliResource, dbt_resource
from orchestration.defs.trends.assets import dbt_behavior_resource
from warehouse.platform.config import Settings
from warehouse.platform.errors import ConfigurationError
from warehouse.publishing.quality.reports import privacy_problems, sqlalchemy_url
from warehouse.publishing.quality.runner import run_suites
from warehouse.publishing.quality.suites import trends_suite


def test_settings_read_k_once_and_reject_bad_values(tmp_path):
    env = {"SMARTCART_HOME": str(tmp_path)}
    assert Settings.from_env(env).k_threshold == 10
    assert Settings.from_env({**env, "SMARTCART_K_THRESHOLD": " 25 "}).dbt_vars() == {"k_threshold": 25}
    for bad in ("ten", "1", "-3", "2.5"):
        with pytest.raises(ConfigurationError, match="SMARTCART_K_THRESHOLD"):
            Settings.from_env({**env, "SMARTCART_K_THRESHOLD": bad})


def _vars_passed_to_dbt(resource: WarehouseDbtCliResource, settings: Settings, run_vars=None) -> dict:
    """The --vars of the dbt command the resource launches (captured instead of starting dbt)."""
    launched = []

    class Capturing(type(resource)):
        def cli(self, args, **kwargs):
            launched.append(list(args))
            return None

    Capturing(
        **{f: getattr(resource, f) for f in ("project_dir", "profiles_dir", "target", "dbt_executable")}
    ).build(settings, run_vars, context=None)
    (args,) = launched
    return json.loads(args[args.index("--vars") + 1])


@pytest.mark.parametrize("k", [3, 17])
def test_a_changed_k_reaches_both_dbt_builds(tmp_path, k):
    # External URLs: the connection env is resolved without a running cluster (dbt is not started).
    urls = {
        db: f"postgresql://transform:secret@db.example:5432/smartcart_{db}" for db in ("catalog", "behavior")
    }
    settings = Settings(home=tmp_path, environment="ci", external_urls=urls, k_threshold=k)
    window = {"min_date": "2026-03-01", "max_date": "2026-03-02"}
    assert _vars_passed_to_dbt(dbt_resource, settings, window) == {"k_threshold": k, **window}
    assert _vars_passed_to_dbt(dbt_behavior_resource, settings) == {"k_threshold": k}
    # The connection was handed to dbt's process only: this process's environment is as before.
    assert os.environ.get("SMARTCART_DBT_CATALOG_HOST") != "db.example"


@pytest.mark.integration
def test_a_changed_k_reaches_the_gx_suite_and_the_privacy_scan(warehouse_settings):
    """A real trends table whose smallest cell counts 5 shoppers: with k=5 GX and the privacy scan
    pass it; with k=6 (only the setting changed) both block it."""
    table = f"k_probe_{uuid.uuid4().hex[:8]}"
    admin_url = warehouse_settings.database_url("behavior")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("create schema if not exists trends")
        conn.execute(f"create table trends.{table} (region text, shoppers int)")
        conn.execute(f"insert into trends.{table} values ('north', 5), ('south', 40)")
    try:
        verdicts = {}
        for k in (5, 6):
            settings = dataclasses.replace(warehouse_settings, k_threshold=k)
            (outcome,) = run_suites(
                {"behavior": sqlalchemy_url(admin_url)}, [trends_suite(table, settings.k_threshold)]
            )
            scan = [p for p in privacy_problems(settings) if table in p]
            verdicts[k] = (outcome.passed, scan)
        assert verdicts[5] == (True, [])
        passed, scan = verdicts[6]
        assert passed is False
        assert len(scan) == 1 and "6" in scan[0]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"drop table trends.{table}")
