"""Analysts: dbt runs with no variables set by hand, and its docs reach Postgres (\\d+) and the docs site."""

from __future__ import annotations

import json

import psycopg
import pytest

from orchestration.cli import main
from orchestration.defs.dbt.project import DBT_PROJECT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_smartcart_dbt_builds_with_descriptions_persisted_and_docs_generate(warehouse_settings, monkeypatch):
    for name in [k for k in __import__("os").environ if k.startswith("SMARTCART_DBT_")]:
        monkeypatch.delenv(name)  # nothing set by hand: the command derives every setting
    # Seeds first: `dbt run` builds models only, and dim_category reads the taxonomy seeds (on a
    # fresh cluster, with this test run alone, nothing has loaded them yet).
    assert main(["dbt", "seed", "--target", "catalog", "--select", "+dim_category"]) == 0
    assert main(["dbt", "run", "--target", "catalog", "--select", "+dim_category"]) == 0
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    node = next(
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "dim_category"
    )
    column, documented = next(
        (c, v["description"]) for c, v in node["columns"].items() if v.get("description")
    )
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        table_comment, column_comment = conn.execute(
            "select obj_description('catalog.dim_category'::regclass, 'pg_class'),"
            " col_description('catalog.dim_category'::regclass,"
            " (select attnum from pg_attribute where attrelid = 'catalog.dim_category'::regclass and attname = %s))",
            (column,),
        ).fetchone()
    assert table_comment.strip() == node["description"].strip()
    assert column_comment.strip() == documented.strip()
    assert main(["docs", "--generate-only"]) == 0
    assert (DBT_PROJECT_DIR / "target" / "index.html").exists()
    assert (DBT_PROJECT_DIR / "target" / "catalog.json").exists()
