"""Great Expectations suites as Dagster asset checks (GX 1.x has no maintained integration: wrapped here).

One multi-asset check per data product runs all its suites in one GX context. A suite with a
failed blocking expectation fails with ERROR severity (blocking: the delivery downstream does
not run); warnings only show as WARN in the UI. The step then fails with every failing gate and
its unexpected rows (crawl health first), not only Dagster's list of failed check names.
"""

import dagster as dg

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.resources import WarehouseResource
from warehouse.platform.config import DEFAULT_K_THRESHOLD
from warehouse.publishing.deliveries import delivery_tables
from warehouse.publishing.quality.reports import run_product_checks
from warehouse.publishing.quality.runner import gate_failure
from warehouse.publishing.quality.suites import product_suites


def trends_table_names() -> list[str]:
    """The sellable trends tables, from the dbt manifest (the models flagged meta.delivery.product)."""
    return [table.name for table in delivery_tables(dbt_project.manifest_path, "trends")]


def check_name(suite) -> str:
    return "gx_" + suite.name.replace(".", "__")


def build_product_checks(product: str) -> dg.AssetChecksDefinition:
    trends_tables = trends_table_names() if product == "trends" else []
    # The check specs need only the suites' names and tables; k is a run-time setting, so the
    # suites that run are rebuilt in the step from the run's Settings (see product_checks).
    suites = product_suites(product, DEFAULT_K_THRESHOLD, trends_tables)

    @dg.multi_asset_check(
        name=f"{product}_quality",
        specs=[
            dg.AssetCheckSpec(
                check_name(suite),
                asset=dg.AssetKey(list(suite.asset_key)),
                blocking=True,
                description=f"Great Expectations suite {suite.name} ({len(suite.expectations)} expectations)",
            )
            for suite in suites
        ],
    )
    def product_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings()
        run_suites = product_suites(product, settings.k_threshold, trends_tables)
        outcomes = run_product_checks(settings, product, context.op_execution_context.run_id, run_suites)
        for outcome in outcomes:
            failed = [o for o in outcome.outcomes if not o.success]
            yield dg.AssetCheckResult(
                check_name=check_name(outcome.suite),
                asset_key=dg.AssetKey(list(outcome.suite.asset_key)),
                passed=outcome.passed and not outcome.warnings,
                severity=dg.AssetCheckSeverity.ERROR if not outcome.passed else dg.AssetCheckSeverity.WARN,
                description=outcome.summary(),
                metadata={
                    "expectations": len(outcome.outcomes),
                    "failed_blocking": len(outcome.blocking_failures),
                    "warnings": len(outcome.warnings),
                    "failed": dg.MetadataValue.json([o.description for o in failed]),
                },
            )
        # Dagster would fail the step with the check names only ("1 blocking asset check failed ...");
        # the run's failure must say why: which crawl of which retailer, by how much.
        if reason := gate_failure(product, outcomes):
            raise dg.Failure(description=reason, allow_retries=False)

    return product_checks


raw_quality = build_product_checks("raw")
catalog_quality = build_product_checks("catalog")
trends_quality = build_product_checks("trends")

# The checks a delivery of each product must have passed (read by gate.py).
PRODUCT_CHECKS = {"catalog": catalog_quality, "trends": trends_quality}
