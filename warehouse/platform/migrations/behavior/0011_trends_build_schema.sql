-- Write-audit-publish (ADR 0024): dbt builds the trends marts into trends_build (transform and
-- backup only); the publish at the end of a successful build copies them into trends.
create schema if not exists trends_build;
