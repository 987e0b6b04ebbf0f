import dagster as dg

from orchestration.defs.quality.checks import catalog_quality, raw_quality, trends_quality

defs = dg.Definitions(asset_checks=[raw_quality, catalog_quality, trends_quality])
