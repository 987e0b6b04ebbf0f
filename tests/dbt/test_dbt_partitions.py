"""Pure helpers that turn a Dagster day window into dbt arguments (no Dagster run, no database)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from orchestration.defs.dbt.project import dbt_build_args, partition_window_vars


def test_one_partition_is_one_day():
    day = dt.date(2026, 3, 2)
    assert partition_window_vars(day, day + dt.timedelta(days=1)) == {
        "min_date": "2026-03-02",
        "max_date": "2026-03-02",
    }


@pytest.mark.parametrize("days", [1, 2, 7, 30])
def test_a_backfill_of_n_days_is_an_n_day_window(days):
    start = dt.date(2026, 2, 26)
    window = partition_window_vars(start, start + dt.timedelta(days=days))
    first, last = dt.date.fromisoformat(window["min_date"]), dt.date.fromisoformat(window["max_date"])
    assert first == start
    assert (last - first).days + 1 == days


def test_window_crosses_month_and_year_ends():
    assert partition_window_vars(dt.date(2026, 12, 31), dt.date(2027, 1, 2)) == {
        "min_date": "2026-12-31",
        "max_date": "2027-01-01",
    }


def test_empty_window_is_refused():
    day = dt.date(2026, 3, 2)
    with pytest.raises(ValueError, match="empty day window"):
        partition_window_vars(day, day)


def test_build_args_carry_the_window_as_vars():
    args = dbt_build_args({"min_date": "2026-03-02", "max_date": "2026-03-04"})
    assert args[:3] == ["build", "--target", "catalog"]
    assert json.loads(args[args.index("--vars") + 1]) == {"min_date": "2026-03-02", "max_date": "2026-03-04"}


def test_unpartitioned_build_has_no_vars():
    assert dbt_build_args(None) == ["build", "--target", "catalog"]


def test_dbt_assets_share_the_scraping_partitions():
    from orchestration.defs.dbt.assets import catalog_dbt_models
    from orchestration.defs.scraping.partitions import scrape_days

    assert catalog_dbt_models.partitions_def == scrape_days
    policy = catalog_dbt_models.backfill_policy
    assert policy is not None and policy.max_partitions_per_run is None  # single run: N days, one dbt build
