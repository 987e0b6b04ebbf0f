-- What ops need to judge a crawl beyond pages/items/rejects/errors: how hard it had to try
-- (retries, rate limiting, pages quarantined whole), what it cost (requests, bytes, peak memory).
alter table raw.scrape_runs add column if not exists pages_expected integer;
alter table raw.scrape_runs add column if not exists requests integer;
alter table raw.scrape_runs add column if not exists retries integer;
alter table raw.scrape_runs add column if not exists rate_limited integer;
alter table raw.scrape_runs add column if not exists pages_quarantined integer;
alter table raw.scrape_runs add column if not exists response_bytes bigint;
alter table raw.scrape_runs add column if not exists memory_max_bytes bigint;
