"""Housekeeping jobs: purge expired optimizer cache rows; apply the retention settings.

Plain ops, not assets: they produce no data anyone reads, only free space. What they removed is
in the run's logs and output metadata.
"""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from warehouse.platform.housekeeping import RetentionSettings, apply_retention, purge_optimizer_cache


@dg.op(description="Delete the rows of serving.optimizer_cache whose expires_at has passed.")
def purge_expired_optimizer_cache(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> int:
    purged = purge_optimizer_cache(warehouse.settings())
    context.add_output_metadata({"rows_purged": purged})
    context.log.info(f"purged {purged} expired optimizer cache rows")
    return purged


@dg.op(
    description="Apply the SMARTCART_KEEP_* retention settings (landing, drop folders, deliveries, Data Docs, "
    "dbt run targets, logs) and rotate the embedded server's log."
)
def apply_retention_rules(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> dict:
    retention = RetentionSettings.from_env()
    report = apply_retention(warehouse.settings(), retention)
    counts = report.counts()
    context.add_output_metadata(
        {
            **{f"removed/{kind}": n for kind, n in counts.items()},
            "freed_mb": round(report.freed_bytes / 1_048_576, 2),
            "server_log_rotated": report.server_log_rotated,
            "retention": dg.MetadataValue.json(retention.__dict__),
        }
    )
    context.log.info(f"removed {counts or 'nothing'}; freed {report.freed_bytes / 1_048_576:.1f} MB")
    return counts


@dg.job(description="Purge expired rows of the optimizer's query cache (serving.optimizer_cache).")
def optimizer_cache_purge():
    purge_expired_optimizer_cache()


@dg.job(description="Retention: remove old landings, drop files, deliveries, Data Docs, dbt targets, logs.")
def housekeeping():
    apply_retention_rules()
    purge_expired_optimizer_cache()
