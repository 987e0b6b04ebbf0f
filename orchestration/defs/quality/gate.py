"""The quality gate in front of every delivery, reading Dagster's own asset-check results.

A delivery ships only when every check of its product has a recorded evaluation in the
instance's event log that is newer than the last materialization of the asset it checks, and
none of them failed with ERROR severity. The verdict therefore holds wherever the delivery
step runs (another process, pod or machine): nothing is re-run and no local file is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.defs.quality.checks import PRODUCT_CHECKS


class QualityGateFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class CheckVerdict:
    check: str
    asset: str
    passed: bool
    severity: str
    run_id: str
    description: str

    def as_json(self) -> dict:
        return {
            "check": self.check,
            "asset": self.asset,
            "passed": self.passed,
            "severity": self.severity,
            "run_id": self.run_id,
            "description": self.description,
        }


def check_keys(product: str) -> list[dg.AssetCheckKey]:
    return sorted(PRODUCT_CHECKS[product].check_keys, key=lambda key: key.to_user_string())


def read_verdicts(instance: dg.DagsterInstance, product: str) -> list[CheckVerdict]:
    """The latest evaluation of each of `product`'s checks; raises QualityGateFailed unless all may ship."""
    keys = check_keys(product)
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    materializations = instance.get_latest_materialization_events([k.asset_key for k in keys])
    verdicts, problems = [], []
    for key in keys:
        name = key.to_user_string()
        record = records.get(key)
        evaluation = (
            record.event.asset_check_evaluation
            if record is not None
            and record.event is not None
            and record.event.dagster_event is not None
            and record.status
            in (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)
            else None
        )
        if evaluation is None:
            problems.append(
                f"{name}: no completed evaluation in the event log (run the product's checks first)"
            )
            continue
        materialized = materializations.get(key.asset_key)
        if materialized is not None and materialized.timestamp > record.event.timestamp:
            problems.append(f"{name}: last evaluated before {key.asset_key.to_user_string()} was rebuilt")
            continue
        verdict = CheckVerdict(
            check=key.name,
            asset=key.asset_key.to_user_string(),
            passed=evaluation.passed,
            severity=evaluation.severity.value,
            run_id=record.run_id,
            description=evaluation.description or "",
        )
        verdicts.append(verdict)
        if not verdict.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            problems.append(f"{name}: {verdict.description}")
    if problems:
        raise QualityGateFailed(
            f"{product} delivery blocked by failed quality checks (see the checks in the Dagster UI): "
            + " | ".join(problems)
        )
    return verdicts
