import dagster as dg

from orchestration.defs.scraping.assets import scrape_daily_job, scraped_catalog
from orchestration.defs.scraping.schedules import scrape_daily_schedule

defs = dg.Definitions(assets=[scraped_catalog], jobs=[scrape_daily_job], schedules=[scrape_daily_schedule])
