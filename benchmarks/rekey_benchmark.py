"""Cost of re-keying a fact's older days after matching merged or split products (ADR 0026).

In a throwaway embedded cluster: a fact shaped like fct_prices_daily's keys (N rows: 20 stores,
50,000 retailer products, 30 days) and an int_product_key_history in which `--moved` retailer
products changed key in the latest build. It runs the real `rekey_block` macro (rendered by
`dbt compile --inline`) and measures, in the same run:

  seq_scan     select count(*) over the fact: one pass over the table, the limit
  rekey        the block with `--moved` pairs retired since the watermark (rows updated)
  rekey again  the block with nothing retired since (the daily case without a merge)

and prints seconds and the ratio to one pass. Not run by CI.

    .venv/bin/python benchmarks/rekey_benchmark.py --rows 30000000 --moved 500
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throwaway import throwaway_warehouse  # noqa: E402
from orchestration.defs.dbt.project import dbt_env  # noqa: E402
from warehouse.platform.config import Settings  # noqa: E402

PRODUCTS, STORES, DAYS = 50_000, 20, 30
TARGET, WATERMARK_SCHEMA = "catalog.bench_rekey_facts", "catalog"

FACT_SQL = f"""
drop table if exists {TARGET};
create table {TARGET} as
select
    date '2026-10-01' + (g % {DAYS}) as price_date,
    md5(('s' || (g / {DAYS} % {STORES}))::text) as store_key,
    md5(('p' || (g / {DAYS * STORES} % {PRODUCTS}))::text) as product_key,
    md5(('rp' || (g / {DAYS * STORES} % {PRODUCTS}))::text) as retailer_product_key,
    round((1 + (g % 997) / 100.0)::numeric, 2)::numeric(12, 2) as price
from generate_series(0, %(rows)s - 1) as g
order by price_date;
"""

# Every retailer product's pair; the first `moved` of them merged into the next product's key.
HISTORY_SQL = f"""
create schema if not exists intermediate;
drop table if exists intermediate.int_product_key_history;
create table intermediate.int_product_key_history as
select
    md5(('rp' || p)::text) as retailer_product_key,
    md5(('p' || p)::text) as product_key,
    case when p < %(moved)s then md5(('p' || (p + %(moved)s))::text) else md5(('p' || p)::text) end
        as current_product_key,
    case when p < %(moved)s then now() end as retired_at
from generate_series(0, {PRODUCTS} - 1) as p
union all
select md5(('rp' || p)::text), md5(('p' || (p + %(moved)s))::text), md5(('p' || (p + %(moved)s))::text), null
from generate_series(0, %(moved)s - 1) as p;
analyze intermediate.int_product_key_history;
"""


def rendered_block(settings: Settings) -> str:
    """The real macro, compiled by dbt against the benchmark's cluster."""
    env = {**os.environ, **dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    work = Path(tempfile.mkdtemp(prefix="rekey-bench-dbt-"))
    try:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")), "compile", "--quiet", "--target", "catalog",
                "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project"),
                "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
                "--inline", f"{{{{ rekey_block('{TARGET}', '{WATERMARK_SCHEMA}') }}}}",
            ],
            env=env, capture_output=True, text=True, cwd=REPO / "dbt_project",
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"dbt compile failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return f"do $bench$\nbegin\n{result.stdout}\nend\n$bench$"


def timed(conn: psycopg.Connection, sql: str) -> float:
    start = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument("--moved", type=int, default=500, help="retailer products whose key moved")
    parser.add_argument("--explain", action="store_true", help="print the re-key's plans (auto_explain)")
    args = parser.parse_args()

    with throwaway_warehouse() as settings:
        block = rendered_block(settings)
        with psycopg.connect(settings.database_url("catalog"), autocommit=True) as conn:
            conn.execute(FACT_SQL.replace("%(rows)s", str(args.rows)))
            conn.execute(f"vacuum analyze {TARGET}")
            conn.execute(HISTORY_SQL.replace("%(moved)s", str(args.moved)))
            expected = conn.execute(
                f"select count(*) from {TARGET} as facts join intermediate.int_product_key_history as h"
                " using (retailer_product_key, product_key) where h.retired_at is not null"
            ).fetchone()[0]
            if args.explain:
                conn.execute("load 'auto_explain'")
                conn.execute("set auto_explain.log_min_duration = 0")
                conn.execute("set auto_explain.log_nested_statements = on")
                conn.execute("set auto_explain.log_analyze = on")
            timed(conn, f"select count(*) from {TARGET}")  # warm the cache
            scan_s = timed(conn, f"select count(*) from {TARGET}")
            rekey_s = timed(conn, block)
            moved_rows = conn.execute(
                f"select count(*) from {TARGET} as facts join intermediate.int_product_key_history as h"
                " using (retailer_product_key) where h.retired_at is not null"
                " and facts.product_key = h.current_product_key"
            ).fetchone()[0]
            again_s = timed(conn, block)
        assert moved_rows == expected, (moved_rows, expected)
        if args.explain:
            log = (settings.cluster_dir / "server.log").read_text()
            print(log[log.find("update " + TARGET) - 2000 :][:8000])
        print()
        print(f"{'rows':>12} | {'moved pairs':>11} | {'rows re-keyed':>13} | {'seq scan s':>10} | "
              f"{'rekey s':>8} | {'ratio':>5} | {'rekey again s':>13}")  # fmt: skip
        print("-" * 92)
        print(f"{args.rows:>12,} | {args.moved:>11,} | {moved_rows:>13,} | {scan_s:>10.2f} | "
              f"{rekey_s:>8.2f} | {rekey_s / scan_s:>5.2f} | {again_s:>13.3f}")  # fmt: skip
        print(
            "\nratio: the re-key against one pass over the table; 'again' is a build with nothing retired since"
        )


if __name__ == "__main__":
    main()
