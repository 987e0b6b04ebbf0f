import dagster as dg

from orchestration.defs.scraping.assets import scrape_daily_job

# Every morning, today's partition (the partitions end one day ahead: see partitions.py).
scrape_daily_schedule = dg.build_schedule_from_partitioned_job(
    scrape_daily_job, hour_of_day=6, minute_of_hour=0, name="scrape_daily_schedule"
)
