-- Query cache of the optimizer HTTP service (the seed's Redis cache, as a Postgres table).
-- request_hash = sha256 of the canonical request JSON and the prices version, so a price change
-- makes old entries unreachable; expired and superseded rows are deleted by the service.
-- No user data: the request holds product ids, quantities and a postcode, never who asked.
create table if not exists serving.optimizer_cache (
    request_hash text primary key,
    prices_version text not null,
    response jsonb not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);

create index if not exists optimizer_cache_expires_at on serving.optimizer_cache (expires_at);
create index if not exists optimizer_cache_prices_version on serving.optimizer_cache (prices_version);
