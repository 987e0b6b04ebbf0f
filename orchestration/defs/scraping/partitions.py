"""The day partitions of scraped data. ``end_offset=1``: today's partition exists (we scrape
today's prices today). Other domains partitioned by day should reuse this definition, so one job
can carry scraped and downstream assets together."""

import dagster as dg

scrape_days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
