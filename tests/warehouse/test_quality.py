"""Great Expectations suites against a real Postgres, and the gate in front of deliveries."""

from __future__ import annotations

import json

import psycopg
import pytest

from warehouse.publishing.quality import reports
from warehouse.publishing.quality.runner import run_suites
from warehouse.publishing.quality.suites import (
    BLOCKING,
    WARNING,
    Expect,
    TableSuite,
    not_null,
    unexpected_rows,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def probe(warehouse_settings):
    url = warehouse_settings.database_url("catalog")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists catalog.quality_probe")
        conn.execute(
            "create table catalog.quality_probe as select g as id, case when g = 7 then null else g * 2.5 end as price"
            " from generate_series(1, 100) g"
        )
        conn.execute("grant select on catalog.quality_probe to smartcart_transform")
    yield url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table catalog.quality_probe")


def suite(*expectations: Expect) -> TableSuite:
    return TableSuite(
        "probe.quality_probe", "catalog", "catalog", "quality_probe", ("quality_probe",), expectations
    )


def test_blocking_failure_and_warning_are_told_apart(probe, tmp_path):
    checks = suite(
        *not_null("id", "price"),
        Expect("ExpectColumnValuesToBeBetween", WARNING, column="price", min_value=0, max_value=100),
        unexpected_rows("no negative ids", "select * from {batch} where id < 0"),
    )
    [outcome] = run_suites({"catalog": reports.sqlalchemy_url(probe)}, [checks], docs_dir=tmp_path / "docs")
    failed = {o.description: o for o in outcome.outcomes if not o.success}
    assert not outcome.passed
    assert [o.severity for o in outcome.blocking_failures] == [BLOCKING]
    assert "column=price" in outcome.blocking_failures[0].description
    assert outcome.blocking_failures[0].unexpected == 1
    assert len(outcome.warnings) == 1 and outcome.warnings[0].unexpected == 60  # prices 102.5 .. 250
    assert "no negative ids" not in failed
    assert (tmp_path / "docs" / "index.html").exists()


def test_missing_table_is_reported_not_raised(probe):
    missing = TableSuite("probe.nope", "catalog", "catalog", "does_not_exist", ("x",), tuple(not_null("id")))
    [outcome] = run_suites({"catalog": reports.sqlalchemy_url(probe)}, [missing])
    assert not outcome.passed and "does_not_exist" in outcome.error


def test_gate_blocks_a_failed_blocking_check_and_passes_warnings(probe, warehouse_settings, monkeypatch):
    monkeypatch.setitem(reports.SUITES_BY_PRODUCT, "probe", [suite(*not_null("price"))])
    monkeypatch.setitem(reports.CHECK_ROLES, "probe", "smartcart_transform")
    with pytest.raises(reports.QualityGateFailed) as info:
        reports.latest_quality_report(warehouse_settings, "probe", "run-blocked")
    assert "probe delivery blocked" in str(info.value) and "column=price" in str(info.value)
    verdict = json.loads(
        (reports.quality_dir(warehouse_settings, "run-blocked", "probe") / "outcomes.json").read_text()
    )
    assert verdict["passed"] is False

    monkeypatch.setitem(
        reports.SUITES_BY_PRODUCT,
        "probe",
        [
            suite(
                *not_null("id"), Expect("ExpectColumnValuesToBeBetween", WARNING, column="price", max_value=1)
            )
        ],
    )
    docs = reports.latest_quality_report(warehouse_settings, "probe", "run-warned")
    assert (docs / "index.html").exists()
