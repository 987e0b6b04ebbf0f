-- Write-audit-publish (ADR 0024): dbt builds the catalog marts into catalog_build, a schema only the
-- transform role (and backup) can read; one publish transaction at the end of a successful build
-- copies them into catalog, the schema every reader uses.
create schema if not exists catalog_build;
