-- Crowd-sourced price reports (the Open Prices pattern). A report file is loaded whole or
-- rejected whole: raw.crowd_report_files records every file seen, with its verdict.
create table if not exists raw.crowd_report_files (
    file_sha256 text primary key,
    file_name text not null,
    file_format text not null check (file_format in ('csv', 'json')),
    status text not null check (status in ('loaded', 'rejected')),
    reports integer not null default 0,
    reasons jsonb,
    received_at timestamptz not null default now()
);

create table if not exists raw.crowd_price_reports (
    report_id text primary key,
    file_sha256 text not null references raw.crowd_report_files (file_sha256),
    contributor_anonymous_id text not null,
    report_type text not null check (report_type in ('price', 'price_is_wrong')),
    product_name text,
    gtin text,
    retailer text,
    store_name text,
    store_id text,
    township text,
    region text,
    price numeric(12, 2) check (price >= 0),
    currency text,
    price_unit text,
    reported_date date not null,
    discount_type text,
    proof_type text,
    wrong_price_reference numeric(12, 2),
    loaded_at timestamptz not null default now()
);
create index if not exists crowd_price_reports_date_idx on raw.crowd_price_reports (reported_date);
