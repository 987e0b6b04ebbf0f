"""Run TableSuites with Great Expectations 1.x against Postgres and build Data Docs.

One ephemeral GX context per run: the suites live in code (suites.py), so nothing needs
a GX project folder; the Data Docs of the run are written to `docs_dir` and shipped in
deliveries as their quality report.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.publishing.quality.suites import BLOCKING, CRAWL_HEALTH, TableSuite

# Failed row-level expectations show this many of their unexpected rows (in the check's description
# and the run's failure), so an operator sees which retailer-day or price, not only a count.
EXAMPLE_ROWS = 5


@dataclass
class ExpectationOutcome:
    description: str
    severity: str
    success: bool
    unexpected: int | None = None
    observed: object = None
    examples: list[str] = field(default_factory=list)  # a few unexpected rows, as "column=value, ..."

    def explain(self) -> str:
        text = f"{self.severity} {self.description} (unexpected {self.unexpected})"
        return text + (": " + " / ".join(self.examples) if self.examples else "")


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
        return f"{self.suite.name}: " + "; ".join(o.explain() for o in failed)


def gate_failure(product: str, outcomes: list[SuiteOutcome]) -> str | None:
    """Why the product's quality gate failed, every failing gate listed, or None if it passed.

    Crawl health comes first: a degraded crawl also trips the mart's other row checks, and its
    verdict (which retailer, which day, by how much) is the reason an operator needs to read.
    """
    reasons: list[tuple[bool, str]] = []
    for outcome in outcomes:
        if outcome.error:
            reasons.append((False, f"{outcome.suite.name}: could not run ({outcome.error})"))
        for failed in outcome.blocking_failures:
            is_crawl_health = failed.description.startswith(CRAWL_HEALTH)
            reasons.append((not is_crawl_health, f"{failed.explain()} [{outcome.suite.name}]"))
    if not reasons:
        return None
    reasons.sort(key=lambda reason: reason[0])  # stable: crawl health first, then suite order
    return f"{product} quality gate failed ({len(reasons)} blocking checks): " + " | ".join(
        r for _, r in reasons
    )


def _batch_subquery(query: str, suite: TableSuite) -> str:
    # As GX substitutes {batch}: queries that alias it themselves get it bare, others as "subselect".
    table = f"(select * from {suite.qualified_table})"
    return table if re.search(r"\{batch\}\s+as\s+\w", query, re.IGNORECASE) else f"{table} as subselect"


def unexpected_row_examples(
    database_url: str, suite: TableSuite, query: str, limit: int = EXAMPLE_ROWS
) -> list[str]:
    """The first unexpected rows of a failed UnexpectedRowsExpectation, as "column=value, ...".

    GX returns the rows themselves only in its COMPLETE result format, which would also fetch every
    unexpected value of every failed column expectation; so only this query is re-run, bounded.
    An explanation, never a verdict: if it cannot run, the expectation still failed.
    """
    import sqlalchemy as sa

    sql = query.format(batch=_batch_subquery(query, suite))
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text(f"select * from ({sql}) as unexpected limit {int(limit)}"))
            columns = list(result.keys())
            return [", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)) for row in result]
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logging.getLogger(__name__).warning("could not read the unexpected rows of %s: %s", suite.name, exc)
        return []
    finally:
        engine.dispose()


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
        severities = {}  # GX expectation id -> our expectation
        for expect in suite.expectations:
            added = gx_suite.add_expectation(getattr(gxe, expect.kind)(**expect.kwargs))
            severities[added.id] = expect
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
            expect = severities[expectation_result.expectation_config.id]
            details = expectation_result.result or {}
            success = bool(expectation_result.success)
            query = expect.kwargs.get("unexpected_rows_query")
            outcome.outcomes.append(
                ExpectationOutcome(
                    description=_describe(expectation_result),
                    severity=expect.severity,
                    success=success,
                    unexpected=details.get("unexpected_count")
                    if details.get("unexpected_count") is not None
                    else details.get("observed_value"),
                    observed=details.get("observed_value"),
                    examples=unexpected_row_examples(
                        database_urls[outcome.suite.database], outcome.suite, query
                    )
                    if query and not success
                    else [],
                )
            )
    return outcomes
