-- Keys for keyed pseudonyms (HMAC-SHA256) of identifiers that arrive from outside, such as an Open
-- Prices contributor's public username. The key lives here, with the vault, never beside the
-- pseudonyms in the catalog: whoever holds only the catalog cannot re-derive a username from them.
create table if not exists vault.pseudonym_keys (
    purpose text primary key,
    hmac_key bytea not null check (length(hmac_key) >= 32),
    created_at timestamptz not null default now()
);
