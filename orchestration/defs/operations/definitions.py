import dagster as dg

from orchestration.defs.operations.assets import database_backup

database_backup_job = dg.define_asset_job(
    "database_backup_job", selection=[database_backup], description="Back up all four databases."
)

# Off by default: an operator turns it on where backups are wanted (and sets SMARTCART_BACKUP_DIR).
database_backup_nightly = dg.ScheduleDefinition(
    name="database_backup_nightly",
    job=database_backup_job,
    cron_schedule="15 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly backup of the four databases (docs/operations.md).",
)

defs = dg.Definitions(
    assets=[database_backup], jobs=[database_backup_job], schedules=[database_backup_nightly]
)
