"""Pieces of the demo runner that need no cluster: the history window and named warnings."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from orchestration.demo.runner import describe_check, history_days, summarise_run
from orchestration.runs import RunOutcome


def test_history_days_end_on_the_last_day_oldest_first():
    days = history_days(14, dt.date(2026, 3, 1))
    assert len(days) == 14 and days[-1] == "2026-03-01" and days[0] == "2026-02-16"
    assert days == sorted(days) and len(set(days)) == 14  # crosses a month end without gaps


def _evaluation(passed: bool, severity, description=None, metadata=None):
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["catalog_raw", "price_observations"]),
        check_name="gx_raw_price_observations",
        passed=passed,
        severity=severity,
        description=description,
        metadata=metadata or {},
    )


class _Event:
    def __init__(self, data):
        self.event_type_value = "ASSET_CHECK_EVALUATION"
        self.event_specific_data = data


def test_a_warning_is_named_with_its_check_asset_and_reason():
    warn = _evaluation(
        False, dg.AssetCheckSeverity.WARN, metadata={"failed": "day-over-day drift (unexpected 3)"}
    )
    error = _evaluation(False, dg.AssetCheckSeverity.ERROR, description="null prices")
    ok = _evaluation(True, dg.AssetCheckSeverity.ERROR)
    outcome = RunOutcome(
        run_ids=["r"], statuses={"r": "SUCCESS"}, all_events=[_Event(e) for e in (warn, error, ok)]
    )
    summary = summarise_run(outcome)
    assert summary["checks_passed"] == 1
    assert summary["checks_failed"] == [error] and summary["checks_warned"] == [warn]
    text = describe_check(warn)
    assert "gx_raw_price_observations" in text and "catalog_raw/price_observations" in text
    assert "day-over-day drift (unexpected 3)" in text
    assert describe_check(error).endswith("null prices")


def test_the_demo_crowd_file_is_one_the_loader_accepts_whole(tmp_path):
    from orchestration.demo.crowd_file import write_crowd_report_file
    from scrapers.demo_market.catalogue import Catalogue
    from warehouse.landing.crowd_reports import parse_report_file, validate_reports

    day = dt.date(2026, 12, 1)
    path = write_crowd_report_file(tmp_path, Catalogue(42, 60, 3, day), day, reports=12)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left behind
    _kind, records, columns = parse_report_file(path, path.read_bytes())
    assert len(records) == 12
    rows, reasons = validate_reports(records, columns, today=day)
    assert reasons == [] and len(rows) == 12
    assert len({row["contributor_anonymous_id"] for row in rows}) > 1  # anonymous ids, never names
    again = write_crowd_report_file(tmp_path, Catalogue(42, 60, 3, day), day, reports=12)
    assert again.read_bytes() == path.read_bytes()  # same day, same file: the loader skips it as seen


def test_the_demo_open_prices_export_maps_and_validates_whole_without_owner_names(tmp_path):
    from orchestration.demo.crowd_file import DEMO_OWNERS, write_open_prices_export
    from scrapers.demo_market.catalogue import Catalogue
    from warehouse.landing.crowd_reports import parse_report_file, validate_reports
    from warehouse.landing.open_prices import is_open_prices, to_crowd_records

    day = dt.date(2026, 12, 1)
    path = write_open_prices_export(tmp_path, Catalogue(42, 60, 3, day), day, prices=8)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    _kind, records, columns = parse_report_file(path, path.read_bytes())
    assert is_open_prices(columns) and len(records) == 8
    mapped, reasons = to_crowd_records(records, lambda owners: {o: f"{len(o):064x}" for o in owners})
    assert reasons == []
    rows, reasons = validate_reports(mapped, sorted({k for r in mapped for k in r}), today=day)
    assert reasons == [] and len(rows) == 8
    assert all(row["gtin"] and row["store_id"].startswith("osm:node/") for row in rows)
    assert any(row["price_is_discounted"] for row in rows) or len(rows) < 8
    stored = repr(rows)
    assert not [owner for owner in DEMO_OWNERS if owner in stored]  # usernames never land


def test_the_demo_market_shrinks_packs_within_the_demo_history():
    from orchestration.demo.runner import demo_shrink, history_days
    from scrapers.demo_market.catalogue import Catalogue, truth_events

    days = history_days(14, dt.date(2026, 12, 1))
    share, first, spread = demo_shrink(days)
    catalogue = Catalogue(
        42, 60, 3, dt.date(2026, 12, 1), shrink_share=share, shrink_from=first, shrink_days=spread
    )
    shrunk_on = {
        day: len(truth_events(catalogue, dt.date.fromisoformat(day))["shrinkflation"]) for day in days
    }
    assert shrunk_on[days[0]] == 0  # the first day has no day before it: a shrink there is not seen
    assert sum(shrunk_on.values()) >= 3, shrunk_on  # events for the flag to find in every demo
