import dagster as dg

from orchestration.defs.deliveries.assets import catalog_delivery

defs = dg.Definitions(assets=[catalog_delivery])
