"""Postgres -> parquet delivery speed for the daily price fact, against Postgres's own read limit.

Builds a synthetic catalog.fct_prices_daily (same columns as the mart) with N rows spread
over 30 days in a throwaway embedded cluster, then measures in the same run:

  copy_binary   COPY (select * from fct) TO STDOUT (FORMAT binary), read and thrown away
  delivery      the delivery exporter: ADBC -> Arrow -> zstd parquet split by price_date

and prints rows/s, the ratio (issue 16: no worse than 1.47-1.50, the goal 1.25), bytes per row,
and the exporter's peak RSS at a small and the full size (it must not grow with the table).
Not run by CI.

    .venv/bin/python benchmarks/delivery_benchmark.py --rows 30000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throwaway import throwaway_warehouse  # noqa: E402

# The mart's own columns and types (checked against its dbt contract in main()), with
# realistic cardinalities: 20 stores, 50,000 products, ids as 32-character md5 hex.
FACT_SQL = """
drop table if exists catalog.bench_fct_prices_daily;
create table catalog.bench_fct_prices_daily as
select
    md5(g::text) as price_id,
    date '2026-10-01' + (g % 30) as price_date,
    md5(('s' || (g % 20))::text) as store_key,
    md5(('p' || (g / 20 % 50000))::text) as product_key,
    md5(('rp' || (g / 20 % 50000))::text) as retailer_product_key,
    'freshmart'::text as retailer,
    round((1 + (g % 997) / 100.0)::numeric, 2)::numeric(12, 2) as price,
    (case when g % 7 = 0 then round((2 + (g % 997) / 100.0)::numeric, 2) end)::numeric(12, 2) as was_price,
    g % 7 = 0 as is_promotion,
    'AUD'::text as currency,
    round((3 + (g % 991) / 10.0)::numeric, 4)::numeric(14, 4) as unit_price,
    (array['kg', 'l', 'each'])[1 + g % 3] as package_unit,
    round((0.1 + (g % 13) / 10.0)::numeric, 4)::numeric(14, 4) as package_quantity,
    g % 50 <> 0 as in_stock,
    g % 101 = 0 as has_unit_mismatch,
    g % 211 = 0 as is_price_outlier,
    'scrapy:freshmart'::text as source,
    'freshmart-' || to_char(date '2026-10-01' + (g % 30), 'YYYYMMDD') || '-' || substr(md5((g % 30)::text), 1, 8)
        as run_id,
    timestamptz '2026-10-01 06:00+00' + (g % 30) * interval '1 day' as fetched_at
from generate_series(1, %(rows)s) as g
order by price_date;
"""

CONTRACT = REPO / "dbt_project" / "models" / "marts" / "catalog" / "_catalog__models.yml"


def check_matches_contract(url: str) -> None:
    """Fail loudly if the synthetic table drifts from fct_prices_daily's contract."""
    models = yaml.safe_load(CONTRACT.read_text())["models"]
    contract = next(m for m in models if m["name"] == "fct_prices_daily")
    expected = [(c["name"], c["data_type"].replace(" ", "")) for c in contract["columns"]]
    with psycopg.connect(url) as conn:
        actual = conn.execute(
            "select attname, replace(format_type(atttypid, atttypmod), ' ', '') from pg_attribute"
            " where attrelid = 'catalog.bench_fct_prices_daily'::regclass and attnum > 0 order by attnum"
        ).fetchall()
    if [tuple(a) for a in actual] != expected:
        raise SystemExit(f"benchmark table differs from the fct_prices_daily contract:\n{actual}\n{expected}")


EXPORT_CHILD = """
import json, resource, sys, time
from pathlib import Path
import adbc_driver_postgresql.dbapi  # noqa: F401  (driver load is not export time)
from warehouse.publishing.deliveries.export import export_query
url, out, query = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
schema, files = export_query(url, query, out, "fct_prices_daily", partition_by="price_date", unique_columns=("price_id",))
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "cpu_s": usage.ru_utime + usage.ru_stime, "rows": sum(r for _, r in files), "files": len(files),
                  "bytes": sum(p.stat().st_size for p, _ in files),
                  "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def copy_binary_seconds(url: str, query: str) -> tuple[float, int]:
    start = time.perf_counter()
    total = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"copy ({query}) to stdout (format binary)") as copy:
            for block in copy:
                total += len(block)
    return time.perf_counter() - start, total


def export_in_child(url: str, query: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix="delivery-bench-"))
    try:
        result = subprocess.run(
            [sys.executable, "-c", EXPORT_CHILD, url, str(out), query],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument(
        "--small-rows", type=int, default=10_000_000, help="size for the flat-memory comparison"
    )
    args = parser.parse_args()

    with throwaway_warehouse() as settings:
        url = settings.database_url("catalog")
        rows_list = sorted({args.small_rows, args.rows})
        table = []
        for rows in rows_list:
            start = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(FACT_SQL.replace("%(rows)s", str(rows)))
                conn.execute("vacuum analyze catalog.bench_fct_prices_daily")
            check_matches_contract(url)
            build = time.perf_counter() - start
            query = "select * from catalog.bench_fct_prices_daily"
            copy_binary_seconds(url, query)  # warm the cache so both read from memory
            copy_s, copy_bytes = copy_binary_seconds(url, query)
            export = export_in_child(url, query)
            assert export["rows"] == rows, export
            table.append((rows, build, copy_s, copy_bytes, export))
        print()
        print(
            f"{'rows':>12} | {'COPY binary s':>13} | {'COPY rows/s':>12} | {'delivery s':>10} | "
            f"{'delivery rows/s':>15} | {'client CPU s':>12} | {'ratio':>5} | {'parquet B/row':>13} | {'files':>5} | {'peak RSS MB':>11}"
        )
        print("-" * 133)
        for rows, _build, copy_s, _copy_bytes, export in table:
            print(
                f"{rows:>12,} | {copy_s:>13.2f} | {rows / copy_s:>12,.0f} | {export['seconds']:>10.2f} | "
                f"{rows / export['seconds']:>15,.0f} | {export['cpu_s']:>12.1f} | {export['seconds'] / copy_s:>5.2f} | "
                f"{export['bytes'] / rows:>13.2f} | {export['files']:>5} | {export['peak_rss_mb']:>11.0f}"
            )
        print(
            "\ntargets: delivery >= 1,000,000 rows/s at 30M rows; ratio no worse than 1.5, goal 1.25; peak RSS flat across sizes"
        )


if __name__ == "__main__":
    main()
