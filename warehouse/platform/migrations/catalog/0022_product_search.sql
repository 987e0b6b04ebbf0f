-- Search table for GET /api/products/search: a copy of catalog.dim_product's searchable fields with
-- a trigram index. dim_product is rebuilt by dbt (a new table each build, indexes lost), so the
-- index lives here; optimizer.service.search refreshes the copy when dim_product changes
-- (source_version) and the Dagster asset product_search_index refreshes it after each build.
create table if not exists serving.product_search (
    product_key text primary key,
    product_name text not null,
    brand text,
    retailer text,
    category_path text,
    search_text text not null
);

-- pg_trgm's operator class is named through the extension's schema, wherever it was installed.
do $$
begin
    execute format(
        'create index if not exists product_search_trgm on serving.product_search '
        'using gin (search_text %s.gin_trgm_ops)',
        (select extnamespace::regnamespace::text from pg_extension where extname = 'pg_trgm')
    );
end
$$;

create table if not exists serving.product_search_state (
    singleton boolean primary key default true check (singleton),
    source_version text not null,
    refreshed_at timestamptz not null default now()
);
