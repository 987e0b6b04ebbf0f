"""Run the trends side end to end (what `smartcart demo` does after the catalog pipeline)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from warehouse.demo.simulator import SimulationConfig, SimulationResult, simulate
from warehouse.platform.access.roles import Role
from warehouse.platform.config import Settings

TRENDS_BUYER_ROLE = Role.TRENDS_BUYER


def trends_table_names() -> list[str]:
    """The sellable trends tables: the dbt manifest's models flagged meta.delivery.product = trends
    (what the trends delivery ships), read when asked, never retyped here."""
    from orchestration.defs.dbt.project import dbt_project
    from warehouse.publishing.deliveries.products import delivery_tables

    return [table.name for table in delivery_tables(dbt_project.manifest_path, "trends")]


def run_trends_pipeline(settings: Settings, services=None):
    """Submit a trends_pipeline run to the Dagster instance and wait (recorded in smartcart_dagster).

    ``services`` is a running ``orchestration.runs.DagsterServices``; without one, one is started
    for this run and stopped after.
    """
    from orchestration.runs import DagsterServices, quiet_console

    run_config = {
        **quiet_console(),
        # The simulator renames complete files into the drop folder just before: no settle wait.
        "ops": {"app_events": {"config": {"settle_seconds": 0}}},
    }
    if services is not None:
        return services.run_job("trends_pipeline", run_config)
    with DagsterServices(settings, settings.home / "logs" / "runs.log") as own:
        return own.run_job("trends_pipeline", run_config)


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
        rows = {
            t: conn.execute(f"select count(*) from trends.{t}").fetchone()[0] for t in trends_table_names()
        }
        top = conn.execute(
            "select shopper_region, category, sum(shoppers)::int from trends.trends_category_demand_weekly"
            " group by 1, 2 order by 3 desc, 1, 2 limit 1"
        ).fetchone()
    return TrendsSummary(rows=rows, top_category=tuple(top) if top else None)


def simulate_and_build(
    settings: Settings, users: int = 150, seed: int = 42, services=None
) -> tuple[SimulationResult, object]:
    """Simulate shoppers (vault + drop folder), then ingest, publish catalog_ref and build trends.

    With the daemon running, the drop folder's sensor ingests the files first; waiting for that
    run keeps trends_pipeline's own ingestion step from racing it (it then skips loaded files).
    """
    import time

    dropped_at = time.time()
    simulation = simulate(settings, SimulationConfig(users=users, seed=seed))
    sensor_run = None
    if services is not None and services.daemon:
        sensor_run = services.wait_for_sensor_run("app_events_ingestion", dropped_at, timeout=180)
    before = [sensor_run.run_id] if sensor_run is not None else []
    if services is not None:
        # The optimizer batch splits the saved lists just ingested (trends_split_savings reads its
        # results): one run per shard of regions, as its morning schedule requests them, queued side
        # by side. (A backfill would first wait for the daemon's next backfill iteration, up to 30 s.)
        from orchestration.defs.optimizer.batch import batch_shards
        from orchestration.runs import quiet_console

        shard_runs = [
            services.submit_job("optimizer_batch", quiet_console(), partition_key=shard)
            for shard in batch_shards.get_partition_keys()
        ]
        batch = services.wait_for_runs(shard_runs)
        before += batch.run_ids
        if not batch.success:
            return simulation, services.outcome(before)
    trends = run_trends_pipeline(settings, services)
    if not before:
        return simulation, trends
    return simulation, services.outcome([*before, *trends.run_ids])


def demo_trends(services, settings: Settings, users: int, seed: int, say=print) -> bool:
    """The trends part of `smartcart demo`: simulate, ingest, catalog_ref, dbt build; print a summary."""
    import time

    from orchestration.run_reports import failure_messages

    started = time.monotonic()
    simulation, result = simulate_and_build(settings, users=users, seed=seed, services=services)
    if not result.success:
        say("\nThe trends pipeline FAILED:")
        for message in failure_messages(result):
            say(f"  - {message}")
        return False
    ingested = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.path == ["behavior_raw", "app_events"] and not ingested.get("events_loaded"):
            ingested = {k: v.value for k, v in mat.metadata.items()}  # the run that loaded them
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
