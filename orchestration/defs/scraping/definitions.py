import dagster as dg

from orchestration.defs.scraping.assets import crawl_assets, raw_landing, scrape_daily_job
from orchestration.defs.scraping.resources import CrawlSitesResource
from orchestration.defs.scraping.schedules import scrape_daily_schedule

defs = dg.Definitions(
    assets=[*crawl_assets, raw_landing],
    jobs=[scrape_daily_job],
    schedules=[scrape_daily_schedule],
    resources={"crawl_sites": CrawlSitesResource()},
)
