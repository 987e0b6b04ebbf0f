-- The vault (smartcart_vault): PII only. Read and written by smartcart_auth alone.
create schema if not exists vault;

create table if not exists vault.users (
    user_id bigint generated always as identity primary key,
    username text not null unique,
    email text not null unique,
    password_hash text not null,
    created_at timestamptz not null default now(),
    erased_at timestamptz
);

-- The anonymous id is a vault-held random id: nothing outside the vault can derive it.
create table if not exists vault.anonymous_ids (
    user_id bigint primary key references vault.users (user_id),
    anonymous_user_id uuid not null unique default gen_random_uuid(),
    created_at timestamptz not null default now()
);

create table if not exists vault.consents (
    consent_id bigint generated always as identity primary key,
    user_id bigint not null references vault.users (user_id),
    consent_type text not null check (consent_type in ('terms', 'trend_sharing', 'marketing')),
    granted boolean not null,
    recorded_at timestamptz not null default now()
);

create table if not exists vault.erasure_requests (
    erasure_request_id bigint generated always as identity primary key,
    user_id bigint not null references vault.users (user_id),
    requested_at timestamptz not null default now(),
    completed_at timestamptz
);

create table if not exists vault.audit_log (
    audit_id bigint generated always as identity primary key,
    actor text not null default current_user,
    action text not null,
    subject_user_id bigint,
    detail jsonb,
    logged_at timestamptz not null default now()
);
