-- Optimizer batch results per saved shopping list, for the trends team. One row per (list, price
-- date): aggregates only; the anonymous id is the one already on the list's events, no other ids.
create table if not exists raw.optimizer_batch_results (
    list_id text not null,
    anonymous_user_id uuid,
    region text not null,
    price_date date not null,
    items integer not null,
    status text not null,
    stores_used integer,
    split_total numeric(12, 2),
    best_single_store_total numeric(12, 2),
    saving numeric(12, 2),
    solved_at timestamptz not null default now(),
    primary key (list_id, region, price_date)
);
