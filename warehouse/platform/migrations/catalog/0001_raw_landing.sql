-- Raw landing tables for scraped catalogue data (smartcart_catalog).
-- Rows arrive by COPY from the crawl landing files; one (retailer, scrape_date)
-- partition is replaced atomically per load, so a re-run never duplicates.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists catalog;

create table if not exists raw.scrape_runs (
    run_id text primary key,
    source text not null,
    retailer text not null,
    scrape_date date not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    pages integer not null default 0,
    items integer not null default 0,
    stores integer not null default 0,
    rejects integer not null default 0,
    errors integer not null default 0,
    duration_seconds double precision,
    message text
);

create table if not exists raw.stores (
    retailer text not null,
    store_id text not null,
    store_name text not null,
    address text,
    postcode text,
    latitude double precision,
    longitude double precision,
    region text,
    scrape_date date not null,
    fetched_at timestamptz not null,
    source text not null,
    source_url text,
    run_id text not null,
    primary key (retailer, scrape_date, store_id)
);

create table if not exists raw.price_observations (
    retailer text not null,
    store_id text not null,
    retailer_product_id text not null,
    product_name text not null,
    brand text,
    category_path text,
    gtin text,
    package_size_text text,
    package_quantity numeric(14, 4),
    package_unit text check (package_unit in ('kg', 'l', 'each')),
    price numeric(12, 2) not null check (price >= 0),
    was_price numeric(12, 2) check (was_price >= 0),
    currency text not null,
    unit_price_text text,
    unit_price numeric(14, 4),
    in_stock boolean not null,
    scrape_date date not null,
    fetched_at timestamptz not null,
    source text not null,
    source_url text,
    run_id text not null,
    primary key (retailer, scrape_date, store_id, retailer_product_id)
);

create table if not exists raw.rejected_items (
    rejected_item_id bigserial primary key,
    run_id text not null,
    retailer text not null,
    scrape_date date not null,
    reason text not null,
    source_url text,
    payload jsonb not null,
    rejected_at timestamptz not null default now()
);
create index if not exists rejected_items_partition_idx on raw.rejected_items (retailer, scrape_date);
