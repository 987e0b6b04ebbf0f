-- Pseudonymous behaviour (smartcart_behavior): rows carry an anonymous id only, never PII.
create schema if not exists raw;
create schema if not exists catalog_ref;
create schema if not exists staging;
create schema if not exists trends;

create table if not exists raw.event_files (
    file_sha256 text primary key,
    file_name text not null,
    events integer not null,
    loaded_at timestamptz not null default now()
);

create table if not exists raw.app_events (
    event_id text primary key,
    anonymous_user_id uuid not null,
    event_type text not null,
    occurred_at timestamptz not null,
    payload jsonb not null,
    file_sha256 text not null references raw.event_files (file_sha256)
);
