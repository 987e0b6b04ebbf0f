import dagster as dg

from orchestration.defs.quality.checks import catalog_quality, raw_quality, trends_quality
from orchestration.defs.quality.crawl_health import crawl_health_check

defs = dg.Definitions(asset_checks=[raw_quality, catalog_quality, trends_quality, crawl_health_check])
