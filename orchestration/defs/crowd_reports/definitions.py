import dagster as dg

from orchestration.defs.crowd_reports.assets import crowd_price_reports, crowd_reports_job
from orchestration.defs.crowd_reports.sensors import crowd_reports_sensor

defs = dg.Definitions(assets=[crowd_price_reports], jobs=[crowd_reports_job], sensors=[crowd_reports_sensor])
