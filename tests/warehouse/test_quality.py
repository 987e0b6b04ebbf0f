"""Great Expectations suites against a real Postgres."""

from __future__ import annotations

import psycopg
import pytest

from warehouse.publishing.quality import reports
from warehouse.publishing.quality.runner import gate_failure, run_suites
from warehouse.publishing.quality.suites import (
    BLOCKING,
    CRAWL_HEALTH_EXPECTATIONS,
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


def test_failed_row_checks_show_their_rows_and_the_gate_names_crawl_health_first(probe):
    checks = suite(
        *not_null("price"),
        unexpected_rows(  # aliases {batch} itself (a join), as the crawl health queries do
            "crawl health: no price above 245",
            "select big.id, big.price from {batch} as big cross join (select 245 as cap) as c"
            " where big.price > c.cap order by big.id",
        ),
        unexpected_rows("ids below 3", "select id from {batch} where id < 3 order by id"),  # GX aliases it
        unexpected_rows("no id above 1000", "select id from {batch} where id > 1000"),
    )
    [outcome] = run_suites({"catalog": reports.sqlalchemy_url(probe)}, [checks])
    failed = {o.description: o for o in outcome.blocking_failures}
    assert failed["crawl health: no price above 245"].examples == [
        "id=99, price=247.5",
        "id=100, price=250.0",
    ]
    assert failed["ids below 3"].examples == ["id=1", "id=2"]
    assert "no id above 1000" not in failed
    assert "(unexpected 2): id=99, price=247.5 / id=100, price=250.0" in outcome.summary()

    reason = gate_failure("catalog", [outcome])
    assert reason.startswith(
        "catalog quality gate failed (3 blocking checks): blocking crawl health: no price above 245"
    )
    assert "column=price" in reason and "ids below 3 (unexpected 2): id=1 / id=2" in reason
    assert gate_failure("catalog", []) is None


def test_a_degraded_crawl_fails_the_gate_naming_the_retailer_the_day_and_by_how_much(warehouse_settings):
    """The mart suite's crawl-health expectations against real raw.scrape_runs rows: the latest run of
    the day is degraded (an earlier one succeeded), and the mart lost 20% of that day's rows."""
    url = warehouse_settings.database_url("catalog")
    breaches = [
        "16 of 204 records quarantined (7.8%, threshold 2.0%)",
        "188 rows vs 204 on 2031-01-01 (-7.8%)",
    ]
    runs = [
        ("probe-ok", "succeeded", None, "10:00"),
        ("probe-bad", "degraded", {"breaches": breaches}, "11:00"),
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        for run_id, status, health, finished in runs:
            conn.execute(
                "insert into raw.scrape_runs (run_id, source, retailer, scrape_date, started_at, finished_at,"
                " status, health) values (%s, 'probe', 'probe-shop', '2031-01-02', '2031-01-02 09:00+00',"
                " %s, %s, %s)",
                (
                    run_id,
                    f"2031-01-02 {finished}+00",
                    status,
                    psycopg.types.json.Jsonb(health) if health else None,
                ),
            )
        conn.execute("drop table if exists catalog.crawl_probe")
        conn.execute(
            "create table catalog.crawl_probe as select 'probe-shop'::text as retailer, d::date as price_date"
            " from generate_series(1, 10) g, (values ('2031-01-01'), ('2031-01-02')) as v (d)"
            " where d = '2031-01-01' or g <= 8"
        )
    try:
        checks = TableSuite(
            "probe.crawl_probe", "catalog", "catalog", "crawl_probe", ("crawl_probe",),
            tuple(CRAWL_HEALTH_EXPECTATIONS),
        )  # fmt: skip
        [outcome] = run_suites({"catalog": reports.sqlalchemy_url(url)}, [checks])
        reason = gate_failure("catalog", [outcome])
        [degraded, dropped] = reason.split(" | ")
        assert "crawl health: no degraded crawl" in degraded
        assert f"retailer=probe-shop, scrape_date=2031-01-02, breaches={'; '.join(breaches)}" in degraded
        assert "crawl health: rows per retailer-day" in dropped
        assert "price_date=2031-01-02, price_rows=8, previous_date=2031-01-01, previous_rows=10" in dropped
        assert "change=-0.2000" in dropped
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("delete from raw.scrape_runs where run_id in ('probe-ok', 'probe-bad')")
            conn.execute("drop table catalog.crawl_probe")


# The gate itself (verdicts from Dagster's event log) is tested in tests/deliveries/test_gate.py.
