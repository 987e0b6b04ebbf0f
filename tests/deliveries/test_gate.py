"""The delivery gate reads verdicts from Dagster's event log, and a backfill ships one snapshot."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from orchestration.defs.deliveries.assets import BACKFILL_TAG, PARTITION_TAG, RANGE_END_TAG, snapshot_or_delta
from orchestration.defs.quality.gate import QualityGateFailed, read_verdicts

OUTCOME = {"passed": True, "severity": dg.AssetCheckSeverity.ERROR}


@dg.asset
def probe_mart() -> None:
    return None


@dg.asset_check(asset=probe_mart, blocking=True)
def probe_rule() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=OUTCOME["passed"], severity=OUTCOME["severity"], description="rows ok?")


KEYS = [dg.AssetCheckKey(dg.AssetKey("probe_mart"), "probe_rule")]


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def _run(instance, *definitions, passed: bool, severity=dg.AssetCheckSeverity.ERROR) -> None:
    OUTCOME.update(passed=passed, severity=severity)
    dg.materialize(list(definitions), instance=instance, raise_on_error=False)


def test_no_evaluation_blocks(instance):
    _run(instance, probe_mart, passed=True)  # the asset alone: its check never ran
    with pytest.raises(QualityGateFailed, match="no completed evaluation"):
        read_verdicts(instance, "probe", KEYS)


def test_a_passed_check_lets_it_ship_and_a_failed_one_blocks(instance):
    _run(instance, probe_mart, probe_rule, passed=True)
    [verdict] = read_verdicts(instance, "probe", KEYS)
    assert verdict.passed and verdict.check == "probe_rule"
    _run(instance, probe_mart, probe_rule, passed=False)
    with pytest.raises(QualityGateFailed, match="probe delivery blocked.*rows ok"):
        read_verdicts(instance, "probe", KEYS)


def test_a_warning_ships_but_a_verdict_older_than_the_data_does_not(instance):
    _run(instance, probe_mart, probe_rule, passed=False, severity=dg.AssetCheckSeverity.WARN)
    [verdict] = read_verdicts(instance, "probe", KEYS)
    assert not verdict.passed and verdict.severity == "WARN"
    _run(instance, probe_mart, passed=True)  # rebuilt after its last check
    with pytest.raises(QualityGateFailed, match="evaluated before"):
        read_verdicts(instance, "probe", KEYS)


@pytest.mark.parametrize(
    ("tags", "newest", "expected"),
    [
        ({}, None, ("snapshot", None)),
        ({PARTITION_TAG: "2026-05-03"}, None, ("snapshot", None)),  # one day, not a backfill
        ({PARTITION_TAG: "2026-05-01", BACKFILL_TAG: "b"}, "2026-05-03", ("delta", dt.date(2026, 5, 1))),
        ({PARTITION_TAG: "2026-05-03", BACKFILL_TAG: "b"}, "2026-05-03", ("snapshot", None)),
        ({RANGE_END_TAG: "2026-05-03", BACKFILL_TAG: "b"}, "2026-05-03", ("snapshot", None)),  # single run
    ],
)
def test_a_backfill_ships_one_snapshot_from_its_newest_day(tags, newest, expected):
    assert snapshot_or_delta(tags, newest, "snapshot", None) == expected
