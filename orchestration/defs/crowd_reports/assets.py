"""Crowd price reports: one run per dropped file, loaded whole or rejected whole
(``warehouse.landing.crowd_reports``). A rejected file is a normal outcome, not a failed run: its reasons
are in the run's metadata, in raw.crowd_report_files and in ``rejected/<file>.reasons.json``."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.defs.owners import owners_of
from orchestration.defs.resources import WarehouseResource
from warehouse.landing.crowd_reports import FileStillChanging, process_report_file, vault_pseudonymizer
from warehouse.platform.access.roles import Role

LOADER_ROLE = Role.SCRAPER  # the catalog raw writer (roles.yml)


class CrowdReportFileConfig(dg.Config):
    path: str = Field(description="The report file in the drop folder (CSV or JSON).")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["catalog_raw", "crowd_price_reports"],
            group_name="crowd_reports",
            owners=owners_of("scraping"),
            kinds={"postgres"},
            description="smartcart_catalog.raw.crowd_price_reports: contributor price reports, by anonymous id.",
        ),
        dg.AssetSpec(
            ["catalog_raw", "crowd_report_files"],
            group_name="crowd_reports",
            owners=owners_of("scraping"),
            kinds={"postgres"},
            description="smartcart_catalog.raw.crowd_report_files: every report file seen and its verdict.",
        ),
    ],
)
def crowd_price_reports(
    context: dg.AssetExecutionContext, config: CrowdReportFileConfig, warehouse: WarehouseResource
):
    path = Path(config.path)
    if not path.exists():
        raise dg.Failure(f"report file {path} is gone (already processed by another run?)")
    with warehouse.connect("catalog", LOADER_ROLE) as conn:
        try:
            # Open Prices owners become keyed pseudonyms under the vault's key (never stored as names).
            outcome = process_report_file(conn, path, pseudonymize=vault_pseudonymizer(warehouse.settings()))
        except FileStillChanging as exc:  # left in place: the sensor offers it again once settled
            raise dg.Failure(description=str(exc)) from None
    if outcome.status == "rejected":
        context.log.warning(f"rejected {outcome.file_name}: {'; '.join(outcome.reasons[:5])}")
    else:
        context.log.info(f"{outcome.status} {outcome.file_name}: {outcome.reports} reports")
    metadata = {
        "file": outcome.file_name,
        "sha256": outcome.file_sha256,
        "status": outcome.status,
        "reports": outcome.reports,
        "reasons": dg.MetadataValue.json(outcome.reasons),
        "moved_to": str(outcome.moved_to),
    }
    yield dg.MaterializeResult(asset_key=["catalog_raw", "crowd_price_reports"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["catalog_raw", "crowd_report_files"], metadata=metadata)


crowd_reports_job = dg.define_asset_job(
    "crowd_reports_job",
    selection=dg.AssetSelection.assets(crowd_price_reports),
    description="Validate and load (or reject) one crowd price report file.",
)
