"""Run TableSuites with Great Expectations 1.x against Postgres and build Data Docs.

One ephemeral GX context per run: the suites live in code (suites.py), so nothing needs
a GX project folder; the Data Docs of the run are written to `docs_dir` and shipped in
deliveries as their quality report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.publishing.quality.suites import BLOCKING, TableSuite


@dataclass
class ExpectationOutcome:
    description: str
    severity: str
    success: bool
    unexpected: int | None = None
    observed: object = None


@dataclass
class SuiteOutcome:
    suite: TableSuite
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == BLOCKING]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != BLOCKING]

    @property
    def passed(self) -> bool:
        return self.error is None and not self.blocking_failures

    def summary(self) -> str:
        if self.error:
            return f"{self.suite.name}: could not run ({self.error})"
        failed = [o for o in self.outcomes if not o.success]
        if not failed:
            return f"{self.suite.name}: all {len(self.outcomes)} expectations met"
        parts = [f"{o.severity} {o.description} (unexpected {o.unexpected})" for o in failed]
        return f"{self.suite.name}: " + "; ".join(parts)


def _describe(expectation) -> str:
    config = expectation.expectation_config if hasattr(expectation, "expectation_config") else expectation
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "unexpected_rows_query")}
    return config.description or f"{config.type}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


def run_suites(
    database_urls: dict[str, str], suites: list[TableSuite], docs_dir: Path | None = None
) -> list[SuiteOutcome]:
    """Validate each suite's table in its database; optionally write Data Docs to docs_dir."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # No usage analytics from a pipeline step (set on the context: nothing here writes os.environ).
    context.enable_analytics(False)
    # GX draws a "Calculating Metrics" bar per suite and ignores TQDM_DISABLE: in a run's log it is
    # hundreds of redrawn lines, so switch it off here.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name="quality_report",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    sources = {}
    outcomes: list[SuiteOutcome] = []
    validations, pending = [], {}
    for suite in suites:
        if suite.database not in sources:
            sources[suite.database] = context.data_sources.add_postgres(
                name=suite.database, connection_string=database_urls[suite.database]
            )
        outcome = SuiteOutcome(suite)
        outcomes.append(outcome)
        try:
            asset = sources[suite.database].add_table_asset(
                name=suite.name, table_name=suite.table, schema_name=suite.schema
            )
        except Exception as exc:  # noqa: BLE001 - a missing table is reported, not raised
            outcome.error = f"table {suite.qualified_table} not readable: {exc}"
            continue
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
        severities = {}  # GX expectation id -> our severity
        for expect in suite.expectations:
            added = gx_suite.add_expectation(getattr(gxe, expect.kind)(**expect.kwargs))
            severities[added.id] = expect.severity
        batch = asset.add_batch_definition_whole_table("whole table")
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(data=batch, suite=gx_suite, name=f"{suite.name} validation")
        )
        validations.append(validation)
        pending[suite.name] = (outcome, severities)
    if not validations:
        return outcomes
    actions = (
        [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["quality_report"])]
        if docs_dir
        else []
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name="smartcart quality", validation_definitions=validations, actions=actions)
    )
    result = checkpoint.run()
    for run_result in result.run_results.values():
        outcome, severities = pending[run_result.suite_name]
        for expectation_result in run_result.results:
            severity = severities[expectation_result.expectation_config.id]
            details = expectation_result.result or {}
            outcome.outcomes.append(
                ExpectationOutcome(
                    description=_describe(expectation_result),
                    severity=severity,
                    success=bool(expectation_result.success),
                    unexpected=details.get("unexpected_count")
                    if details.get("unexpected_count") is not None
                    else details.get("observed_value"),
                    observed=details.get("observed_value"),
                )
            )
    return outcomes
