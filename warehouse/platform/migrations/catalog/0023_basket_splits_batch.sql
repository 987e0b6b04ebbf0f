-- Batch splits (orchestration/defs/optimizer): what kind of basket and which region it was split for.
alter table serving.basket_splits add column if not exists basket_kind text;
alter table serving.basket_splits add column if not exists region text;
alter table serving.basket_splits add column if not exists items integer;
alter table serving.basket_splits add column if not exists stores_used integer;
