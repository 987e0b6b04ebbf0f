-- The catalog mart builds one day (a Dagster partition) at a time and reads
-- raw.price_observations by scrape_date alone; the primary key leads with
-- retailer, so without this index every daily build would scan all history.
create index if not exists price_observations_scrape_date_idx on raw.price_observations (scrape_date);
create index if not exists scrape_runs_scrape_date_idx on raw.scrape_runs (scrape_date);
