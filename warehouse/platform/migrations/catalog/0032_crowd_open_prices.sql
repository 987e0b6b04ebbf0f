-- Open Prices exports load beside SmartCart's own crowd format (warehouse/landing/open_prices.py):
-- JSON Lines files, the source format of each file, and the fields Open Prices carries that the
-- crowd format lacked (was-price, category tag for prices of loose produce, discount flag).
alter table raw.crowd_report_files drop constraint if exists crowd_report_files_file_format_check;
alter table raw.crowd_report_files add constraint crowd_report_files_file_format_check
    check (file_format in ('csv', 'json', 'jsonl'));
alter table raw.crowd_report_files add column if not exists source_format text not null default 'smartcart';
alter table raw.crowd_price_reports add column if not exists was_price numeric(12, 2) check (was_price >= 0);
alter table raw.crowd_price_reports add column if not exists category_tag text;
alter table raw.crowd_price_reports add column if not exists price_is_discounted boolean;
