"""Incremental build of the catalog mart: building one new day costs the same with 30 days of history.

In a throwaway embedded cluster (its own SMARTCART_HOME), synthetic scraped prices are generated
straight into raw.price_observations with generate_series: two retailers, STORES branches and
PRODUCTS products each (the same products under each retailer's own key and a shared GTIN), so
--rows-per-day observations a day (default 1,000,000). Then, timing `dbt build --select tag:catalog`
(every catalog model: staging views, matching, all facts and marts, and their data and unit tests)
as a Dagster partition run does:

  small history   day 1 built; build day 2 incrementally (vars min_date = max_date = day 2)
  full refresh    `--full-refresh` over days 1..30 (one 30-day window)
  large history   days 1..30 built; build day 31 incrementally

and prints a table with the ratio large/small (target <= 1.5). Not run by CI.

    .venv/bin/python benchmarks/catalog_incremental_benchmark.py               # 30 x 1,000,000
    .venv/bin/python benchmarks/catalog_incremental_benchmark.py --rows-per-day 100000 --days 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throwaway import throwaway_warehouse  # noqa: E402
from orchestration.defs.dbt.project import DBT_PROJECT_DIR, dbt_env, dbt_executable  # noqa: E402
from warehouse.platform.config import Settings  # noqa: E402

START = dt.date(2026, 1, 5)

# One day of observations: branch s (0..stores-1; the first half are retailer alpha's) x product p.
DAY_SQL = """
insert into raw.scrape_runs (run_id, source, retailer, scrape_date, started_at, finished_at, status)
select 'bench-' || retailer || '-' || %(day)s, 'scrapy:' || retailer, retailer, %(day)s::date,
       %(day)s::date + time '06:00', %(day)s::date + time '07:00', 'succeeded'
from unnest(array['alpha', 'beta']) as retailer;

insert into raw.stores (retailer, store_id, store_name, region, scrape_date, fetched_at, source, run_id)
select case when s < %(stores)s / 2 then 'alpha' else 'beta' end, 'S' || s, 'Branch ' || s,
       (array['NSW', 'VIC', 'QLD', 'WA'])[1 + s %% 4], %(day)s::date, %(day)s::date + time '06:00',
       'scrapy:bench', 'bench-' || case when s < %(stores)s / 2 then 'alpha' else 'beta' end || '-' || %(day)s
from generate_series(0, %(stores)s - 1) as s;

insert into raw.price_observations (
    retailer, store_id, retailer_product_id, product_name, brand, category_path, gtin,
    package_size_text, package_quantity, package_unit, price, was_price, currency, unit_price,
    in_stock, scrape_date, fetched_at, source, run_id
)
select
    retailer,
    'S' || s,
    upper(left(retailer, 1)) || p,
    'Brand' || (p %% 50) || ' Product ' || p || ' 500g',
    'Brand' || (p %% 50),
    (array['Dairy > Milk', 'Pantry > Pasta', 'Bakery > Bread', 'Drinks > Juice'])[1 + p %% 4],
    case when p %% 10 <> 0 then lpad((930000000000 + p)::text, 13, '0') end,
    '500g', 0.5, 'kg',
    price, case when promo then round(price * 1.25, 2) end, 'AUD', round(price / 0.5, 4),
    (p + s + %(day_index)s) %% 37 <> 0,
    %(day)s::date, %(day)s::date + time '06:00', 'scrapy:' || retailer,
    'bench-' || retailer || '-' || %(day)s
from (
    select
        s, p,
        case when s < %(stores)s / 2 then 'alpha' else 'beta' end as retailer,
        round((1 + (p %% 997) / 100.0) * (1 + (s %% 7) / 100.0)
              * (1 + ((p + %(day_index)s) %% 9 = 0)::int * 0.05), 2)::numeric(12, 2) as price,
        (p + s + %(day_index)s) %% 8 = 0 as promo
    from generate_series(0, %(stores)s - 1) as s
    cross join generate_series(0, %(products)s - 1) as p
) as rows;
"""


def load_days(settings: Settings, first_index: int, count: int, stores: int, products: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(settings.database_url("catalog"), autocommit=True) as conn:
        for index in range(first_index, first_index + count):
            day = (START + dt.timedelta(days=index)).isoformat()
            params = {"day": day, "day_index": index, "stores": stores, "products": products}
            for statement in DAY_SQL.split(";\n\n"):
                conn.execute(statement, params)
        conn.execute("analyze raw.price_observations")
        conn.execute("analyze raw.scrape_runs")
        conn.execute("analyze raw.stores")
    return time.perf_counter() - started


def dbt_run(
    settings: Settings,
    work: Path,
    first: dt.date | None,
    last: dt.date | None,
    full: bool = False,
    verb: str = "build",
) -> float:
    command = [
        dbt_executable(), verb, "--select", "tag:catalog", "--target", "catalog",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    if first is not None:
        command += ["--vars", json.dumps({"min_date": first.isoformat(), "max_date": last.isoformat()})]
    if full:
        command.append("--full-refresh")
    env = {**os.environ, **dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt {verb} failed:\n{result.stdout[-5000:]}\n{result.stderr[-2000:]}")
    return seconds


def settle(settings: Settings) -> None:
    """The state a daily run meets: yesterday's load vacuumed and checkpointed.

    A partition run starts a day after the last one, long after autovacuum has
    processed the previous load. Without this, the timed build would also pay
    for autovacuum and checkpoints catching up with the 30M-row refresh.
    """
    with psycopg.connect(settings.database_url("catalog"), autocommit=True) as conn:
        conn.execute("vacuum analyze")
        conn.execute("checkpoint")


def model_timings(work: Path) -> dict[str, float]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results
        if r["unique_id"].startswith("model.")
    }


def test_seconds(work: Path) -> float:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return sum(r["execution_time"] for r in results if not r["unique_id"].startswith("model."))


def fact_rows(settings: Settings) -> int:
    with psycopg.connect(settings.database_url("catalog")) as conn:
        return conn.execute("select count(*) from catalog.fct_prices_daily").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows-per-day", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30, help="history before the new day")
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary SMARTCART_HOME and its cluster"
    )
    args = parser.parse_args()
    products = args.rows_per_day // args.stores

    rows = []
    with throwaway_warehouse("smartcart-bench-catalog-", keep=args.keep) as settings:
        work = settings.home / "dbt"
        day = lambda index: START + dt.timedelta(days=index)  # noqa: E731

        # Small history: day 1 built, day 2 new.
        load_s = load_days(settings, 0, 2, args.stores, products)
        dbt_run(settings, work, None, None, verb="seed")
        dbt_run(settings, work, day(0), day(0), full=True)
        settle(settings)
        small_first = dbt_run(settings, work, day(1), day(1))  # the new day's first build
        small = dbt_run(settings, work, day(1), day(1))  # the same day again (steady state)
        small_models = model_timings(work)
        rows.append(("build 1 new day, 1 day of history", small, test_seconds(work), fact_rows(settings)))

        # Large history: days 1..N built (as one full refresh), day N+1 new.
        load_s += load_days(settings, 2, args.days - 1, args.stores, products)
        full = dbt_run(settings, work, day(0), day(args.days - 1), full=True)
        rows.append((f"full refresh, {args.days} days", full, test_seconds(work), fact_rows(settings)))
        settle(settings)
        large_first = dbt_run(settings, work, day(args.days), day(args.days))  # the new day's first build
        large = dbt_run(settings, work, day(args.days), day(args.days))  # the same day again (steady state)
        large_models = model_timings(work)
        rows.append(
            (f"build 1 new day, {args.days} days of history", large, test_seconds(work), fact_rows(settings))
        )

        print(f"\ncatalog mart incremental build: {args.rows_per_day:,} observations/day, "
              f"{args.stores} branches x {products:,} products, 2 retailers; data generated in {load_s:.0f}s\n")  # fmt: skip
        print(
            f"| {'dbt build':<42} | {'seconds':>8} | {'of which tests':>14} | {'fct_prices_daily rows':>22} |"
        )
        print(f"|{'-' * 44}|{'-' * 10}|{'-' * 16}|{'-' * 24}|")
        for name, seconds, tests, fact in rows:
            print(f"| {name:<42} | {seconds:>8.1f} | {tests:>14.1f} | {fact:>22,} |")
        ratio = large / small
        print(f"\nfirst build of the new day: {small_first:.1f} s with 1 day, {large_first:.1f} s with {args.days} days"
              f" (ratio {large_first / small_first:.2f})")  # fmt: skip
        print(f"ratio large/small history: {ratio:.2f} (target <= 1.5): {'OK' if ratio <= 1.5 else 'OVER'}\n")
        print(f"| {'model (seconds)':<36} | {'1 day history':>13} | {f'{args.days} days history':>15} |")
        print(f"|{'-' * 38}|{'-' * 15}|{'-' * 17}|")
        for model in sorted(large_models, key=lambda m: -large_models[m]):
            print(f"| {model:<36} | {small_models.get(model, 0):>13.2f} | {large_models[model]:>15.2f} |")
        return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
