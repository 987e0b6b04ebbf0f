"""Waiting on a job backfill: done once its last partition was submitted, not at the daemon's next tick."""

from __future__ import annotations

import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from orchestration.runs import all_runs_submitted

DAYS = ["2026-11-30", "2026-12-01", "2026-12-02"]


def _backfill(status=BulkActionStatus.REQUESTED, names=DAYS, checkpoint=None) -> PartitionBackfill:
    return PartitionBackfill(
        backfill_id="b1", status=status, from_failure=False, tags={}, backfill_timestamp=0.0,
        partition_names=names, last_submitted_partition_name=checkpoint,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("backfill", "submitted"),
    [
        (_backfill(), False),  # the daemon has not picked it up
        (_backfill(checkpoint=DAYS[1]), False),  # a chunk is submitted, the last partition not yet
        (_backfill(checkpoint=DAYS[-1]), True),  # every run exists; the status follows a tick later
        (_backfill(names=[], checkpoint=None), False),
        (_backfill(status=BulkActionStatus.COMPLETED_SUCCESS), True),
        (_backfill(status=BulkActionStatus.CANCELING, checkpoint=DAYS[0]), True),
    ],
)
def test_a_backfill_has_all_its_runs_once_its_last_partition_was_submitted(backfill, submitted):
    assert all_runs_submitted(backfill) is submitted
