"""Run the trends side end to end (what `smartcart demo` does after the catalog pipeline)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from warehouse.demo.simulator import SimulationConfig, SimulationResult, simulate
from warehouse.platform.config import Settings

TRENDS_BUYER_ROLE = "smartcart_trends_buyer"
TRENDS_TABLES = (
    "trends_category_demand_weekly",
    "trends_substitution_flows",
    "trends_basket_spend_bands",
    "trends_basket_composition",
    "trends_store_choice",
    "trends_split_savings",
)


def run_trends_pipeline(settings: Settings):
    """Run the trends_pipeline job through Dagster (recorded in smartcart_dagster)."""
    from orchestration.dagster_instance import prepare_dagster_env

    prepare_dagster_env(settings)
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def("trends_pipeline")
    run_config = {
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        # The simulator renames complete files into the drop folder just before: no settle wait.
        "ops": {"app_events": {"config": {"settle_seconds": 0}}},
    }
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)


@dataclass(frozen=True)
class TrendsSummary:
    rows: dict[str, int]
    top_category: tuple[str, str, int] | None  # (region, category, shoppers)

    def line(self) -> str:
        tables = ", ".join(f"{name.removeprefix('trends_')} {rows}" for name, rows in self.rows.items())
        top = (
            f"; top cell: {self.top_category[1]} in {self.top_category[0]} ({self.top_category[2]} shoppers)"
            if self.top_category
            else ""
        )
        return f"trends rows (k-anonymous): {tables}{top}"


def trends_summary(settings: Settings) -> TrendsSummary:
    """Read the trends mart as a trends buyer would."""
    with psycopg.connect(settings.database_url("behavior", TRENDS_BUYER_ROLE)) as conn:
        rows = {t: conn.execute(f"select count(*) from trends.{t}").fetchone()[0] for t in TRENDS_TABLES}
        top = conn.execute(
            "select shopper_region, category, sum(shoppers)::int from trends.trends_category_demand_weekly"
            " group by 1, 2 order by 3 desc, 1, 2 limit 1"
        ).fetchone()
    return TrendsSummary(rows=rows, top_category=tuple(top) if top else None)


def simulate_and_build(
    settings: Settings, users: int = 150, seed: int = 42
) -> tuple[SimulationResult, object]:
    """Simulate shoppers (vault + drop folder), then ingest, publish catalog_ref and build trends."""
    simulation = simulate(settings, SimulationConfig(users=users, seed=seed))
    return simulation, run_trends_pipeline(settings)


def demo_trends(settings: Settings, users: int, seed: int, say=print) -> bool:
    """The trends part of `smartcart demo`: simulate, ingest, catalog_ref, dbt build; print a summary."""
    import time

    from orchestration.run_reports import failure_messages

    started = time.monotonic()
    simulation, result = simulate_and_build(settings, users=users, seed=seed)
    if not result.success:
        say("\nThe trends pipeline FAILED:")
        for message in failure_messages(result):
            say(f"  - {message}")
        return False
    ingested = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.path == ["behavior_raw", "app_events"]:
            ingested = {k: v.value for k, v in mat.metadata.items()}
    say(
        f"  trends:            {simulation.users} simulated shoppers ({simulation.declined_trend_sharing} declined "
        f"trend sharing, {len(simulation.erased_app_user_ids)} erased), {simulation.events} app events -> "
        f"{ingested.get('events_loaded', '?')} loaded pseudonymized ({ingested.get('pii_fields_dropped', '?')} PII "
        f"fields dropped) in {time.monotonic() - started:.0f}s (Dagster run {result.run_id})"
    )
    say(f"                     {trends_summary(settings).line()}")
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.path == ["trends_delivery"]:
            meta = {k: v.value for k, v in mat.metadata.items()}
            say(f"  trends delivery:   {meta['path']} ({meta['files']} files, {meta['rows']} rows)")
    return True
