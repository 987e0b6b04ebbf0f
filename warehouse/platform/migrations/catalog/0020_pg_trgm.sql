-- Trigram matching for typo-tolerant product search (optimizer HTTP service).
-- The extension lives in its own schema: grants revoke everything on schema public, so
-- functions installed there would be unusable by the app roles.
create schema if not exists extensions;
create extension if not exists pg_trgm with schema extensions;
grant usage on schema extensions to public;
