import dagster as dg

from orchestration.defs.scraping.assets import scraped_catalog

defs = dg.Definitions(assets=[scraped_catalog])
