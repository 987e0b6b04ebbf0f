-- The app's user id (what app event files carry), consent history helpers and erasure bookkeeping.
-- The app user id is issued by the vault (random, not derived from username or email); it is
-- PII-adjacent and never leaves the vault: ingestion swaps it for the anonymous id.
alter table vault.users
    add column if not exists app_user_id text unique
        default ('app-' || replace(gen_random_uuid()::text, '-', ''));
update vault.users
set app_user_id = 'app-' || replace(gen_random_uuid()::text, '-', '')
where app_user_id is null;
alter table vault.users alter column app_user_id set not null;

-- Erasure scrubs username, email and password hash; the row stays (with erased_at) so that
-- late events for an erased app user id are dropped instead of rejecting their whole file.
alter table vault.users alter column password_hash drop not null;

-- Erasure processing deletes the user's behaviour rows, then their anonymous id mapping row.
alter table vault.erasure_requests add column if not exists behavior_rows_deleted bigint;

create index if not exists consents_user_type_idx
    on vault.consents (user_id, consent_type, recorded_at desc, consent_id desc);

-- The latest consent of each type per user (the history stays in vault.consents).
create or replace view vault.current_consents as
select distinct on (user_id, consent_type)
    user_id,
    consent_type,
    granted,
    recorded_at
from vault.consents
order by user_id, consent_type, recorded_at desc, consent_id desc;

create index if not exists audit_log_subject_idx on vault.audit_log (subject_user_id);
