-- Consent state published from the vault without PII: anonymous id + trend-sharing flag only.
-- Replaced as a whole by each ingestion; an erased user is absent (and their events deleted).
create table if not exists raw.trend_consents (
    anonymous_user_id uuid primary key,
    trend_sharing boolean not null,
    as_of timestamptz not null
);

-- Files rejected whole, with reasons (line numbers and counts, never user ids or values).
create table if not exists raw.rejected_event_files (
    file_sha256 text primary key,
    file_name text not null,
    lines integer not null,
    reasons jsonb not null,
    rejected_at timestamptz not null default now()
);

-- No extra index on raw.app_events: ingestion is COPY-bound, and erasure (rare) may scan.
