"""App event ingestion: drop folder -> vault pseudonymization -> smartcart_behavior.raw."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from warehouse.landing.ingestion import app_events_dropzone, ingest_dropzone


class IngestionConfig(dg.Config):
    dropzone: str | None = Field(
        default=None,
        description="Folder of app event JSONL files; default SMARTCART_APP_EVENTS_DIR or SMARTCART_HOME/dropzone/app_events.",
    )
    settle_seconds: float | None = Field(
        default=None,
        ge=0,
        description="Read a file only once it has been unchanged this long; default "
        "SMARTCART_DROP_SETTLE_SECONDS (10). 0 when the producer renamed complete files in.",
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["behavior_raw", "app_events"],
            group_name="ingestion",
            owners=owners_of("ops"),
            kinds={"python", "postgres"},
            description="smartcart_behavior.raw.app_events (+ raw.event_files): app events keyed by anonymous id, PII dropped.",
        ),
        dg.AssetSpec(
            ["behavior_raw", "trend_consents"],
            group_name="ingestion",
            owners=owners_of("ops"),
            kinds={"postgres"},
            description="smartcart_behavior.raw.trend_consents: (anonymous id, trend_sharing) republished from the vault.",
        ),
    ],
)
def app_events(context: dg.AssetExecutionContext, config: IngestionConfig, warehouse: WarehouseResource):
    """Process pending erasures, load every dropped file whole (or reject it whole), republish consents."""
    settings = warehouse.settings()
    dropzone = Path(config.dropzone) if config.dropzone else app_events_dropzone(settings)
    summary = ingest_dropzone(settings, dropzone, settle=config.settle_seconds)
    for result in summary.files:
        if result.status == "waiting":
            context.log.info(f"{result.file_name} changed while it was read: left for the next run")
        elif result.status == "rejected":
            context.log.warning(f"rejected {result.file_name}: {'; '.join(result.reasons)}")
        else:
            context.log.info(f"{result.status} {result.file_name}: {result.events_loaded} events")
    yield dg.MaterializeResult(
        asset_key=["behavior_raw", "app_events"],
        metadata={
            "files_loaded": summary.count("loaded"),
            "files_rejected": summary.count("rejected"),
            "files_skipped": summary.count("skipped"),
            "files_waiting": summary.count("waiting"),
            "events_loaded": summary.events_loaded,
            "events_dropped_erased": sum(f.events_dropped_erased for f in summary.files),
            "pii_fields_dropped": sum(f.fields_dropped for f in summary.files),
            "erasures_processed": summary.erasures_processed,
            "erased_rows_deleted": summary.erased_rows_deleted,
            "rejected_files": [
                f"{f.file_name}: {'; '.join(f.reasons)}" for f in summary.files if f.status == "rejected"
            ],
            "dropzone": str(dropzone),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["behavior_raw", "trend_consents"],
        metadata={"users": summary.trend_consents_published},
    )
