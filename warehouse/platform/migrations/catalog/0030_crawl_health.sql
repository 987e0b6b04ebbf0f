-- Crawl health gates (warehouse/landing/crawl_health.py): a completed crawl that lost too many
-- rows is recorded 'degraded'. Its rows load and may reach the marts, flagged; no delivery ships
-- them. `health` keeps the measures, the thresholds used and the breaches; `products` (distinct
-- retailer products landed) is what the next day's store x product coverage compares with.
alter table raw.scrape_runs drop constraint if exists scrape_runs_status_check;
alter table raw.scrape_runs add constraint scrape_runs_status_check
    check (status in ('running', 'succeeded', 'degraded', 'failed'));
alter table raw.scrape_runs add column if not exists products integer;
alter table raw.scrape_runs add column if not exists health jsonb;
create index if not exists scrape_runs_retailer_day_idx on raw.scrape_runs (retailer, scrape_date);
