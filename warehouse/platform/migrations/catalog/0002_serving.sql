-- Serving tables written by the optimizer (batch splits and the sample basket).
create schema if not exists serving;

create table if not exists serving.basket_splits (
    basket_id text not null,
    price_date date not null,
    max_stores integer,
    store_visit_cost numeric(10, 2) not null,
    status text not null,
    split_total numeric(12, 2),
    best_single_store text,
    best_single_store_total numeric(12, 2),
    saving numeric(12, 2),
    result jsonb not null,
    solved_at timestamptz not null default now(),
    primary key (basket_id, price_date)
);
