-- catalog_ref: the catalog mart's public dimensions, published into the behaviour database by
-- the Dagster asset `catalog_ref` (dbt cannot join across databases). Replaced whole each time.
create table if not exists catalog_ref.products (
    product_key text primary key,
    product_name text,
    brand text,
    category_path text not null,
    category text not null,
    package_size_text text,
    package_quantity numeric,
    package_unit text
);

create table if not exists catalog_ref.categories (
    category_path text primary key,
    category text not null,
    products integer not null
);

create table if not exists catalog_ref.stores (
    store_key text primary key,
    retailer text not null,
    store_name text,
    postcode text,
    region text
);

-- The latest observed shelf price per store and product.
create table if not exists catalog_ref.current_prices (
    store_key text not null,
    product_key text not null,
    price_date date not null,
    price numeric(12, 2) not null,
    unit_price numeric,
    primary key (store_key, product_key)
);

create table if not exists catalog_ref.publications (
    published_at timestamptz primary key default now(),
    products integer not null,
    stores integer not null,
    current_prices integer not null
);
