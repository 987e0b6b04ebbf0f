import dagster as dg

from orchestration.defs.ingestion.assets import app_events
from orchestration.defs.ingestion.sensors import app_events_dropzone_sensor, app_events_ingestion

defs = dg.Definitions(assets=[app_events], jobs=[app_events_ingestion], sensors=[app_events_dropzone_sensor])
