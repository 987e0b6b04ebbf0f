-- Pack sizes (issue 13): how many separately packed units an observation's pack holds
-- ("6 x 330ml": 6, "500g": 1). package_quantity stays the whole pack in package_unit.
alter table raw.price_observations add column if not exists pack_count integer;
