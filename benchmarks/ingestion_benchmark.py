"""App event ingestion and trends build at scale, on a temporary embedded cluster.

Run: ``.venv/bin/python benchmarks/ingestion_benchmark.py [--events 1000000] [--users 20000]
[--build-events 10000000] [--files 10] [--keep]``

(a) ingestion: the shopper simulator registers --users shoppers in the vault and writes
    --events app events as JSONL files (not timed); then `ingest_dropzone` is timed end to end:
    checksum, parse + validate, ONE batch vault lookup per file (audit-logged), PII dropped,
    COPY into smartcart_behavior.raw.app_events as smartcart_ingest, consents republished.
    Target: >= 50,000 events/s.
(b) trends build: --build-events synthetic events generated straight in SQL (10 per list:
    list created, 7 items added, a substitution or a removal, an optimizer request; 75% of
    shoppers consent), then `dbt build --target behavior --select tag:trends` is timed (models
    and their tests), with per-model times from run_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from benchmarks.throwaway import throwaway_warehouse  # noqa: E402
from warehouse.demo.simulator import SimulationConfig, simulate, synthetic_catalog  # noqa: E402
from warehouse.landing.ingestion import ingest_dropzone, parse_event_file  # noqa: E402
from warehouse.platform.config import Settings  # noqa: E402


def publish_synthetic_catalog_ref(settings: Settings, products: int = 300) -> list[str]:
    catalog = synthetic_catalog(products=products, seed=1)
    regions = sorted(catalog.regions)
    with psycopg.connect(settings.database_url("behavior")) as conn:
        conn.execute("truncate catalog_ref.products, catalog_ref.stores, catalog_ref.current_prices")
        with conn.cursor().copy(
            "copy catalog_ref.products (product_key, product_name, category_path, category) from stdin"
        ) as copy:
            for key, path in catalog.products:
                copy.write_row((key, f"Product {key[:6]}", path, path.split(" > ")[0]))
        for region in regions:
            for i in range(3):
                conn.execute(
                    "insert into catalog_ref.stores values (%s, 'freshmart', %s, null, %s)",
                    (f"{region}-{i}", f"FreshMart {region} {i}", region),
                )
        conn.execute(
            "insert into catalog_ref.current_prices"
            " select s.store_key, p.product_key, current_date, round((1 + random() * 12)::numeric, 2), null"
            " from catalog_ref.stores s cross join catalog_ref.products p where random() < 0.85"
        )
    return [key for key, _ in catalog.products]


def bench_ingestion(settings: Settings, events: int, users: int, files: int) -> dict:
    catalog = synthetic_catalog(products=300, seed=1)
    dropzone = settings.home / "bench-dropzone"
    lists_per_user = max(1, round(events / users / 11.5))
    started = time.perf_counter()
    sim = simulate(
        settings,
        SimulationConfig(
            users=users,
            weeks=8,
            seed=7,
            lists_per_user=(lists_per_user, lists_per_user),
            items_per_list=(6, 14),
            erasure_rate=0.01,
            events_per_file=-(-events // files),
        ),
        catalog=catalog,
        dropzone=dropzone,
    )
    generate_s = time.perf_counter() - started
    size_mb = sum(p.stat().st_size for p in sim.files) / 1e6
    parse_started = time.perf_counter()
    parse_file = parse_event_file(sim.files[0])
    parse_rate = len(parse_file.events) / (time.perf_counter() - parse_started)
    started = time.perf_counter()
    summary = ingest_dropzone(settings, dropzone, settle=0)  # files were renamed in complete
    ingest_s = time.perf_counter() - started
    return {
        "simulated_events": sim.events,
        "users": users,
        "files": len(sim.files),
        "size_mb": size_mb,
        "generate_s": generate_s,
        "ingest_s": ingest_s,
        "loaded": summary.events_loaded,
        "dropped_erased": sum(f.events_dropped_erased for f in summary.files),
        "rejected": summary.count("rejected"),
        "pii_fields_dropped": sum(f.fields_dropped for f in summary.files),
        "rate": sim.events / ingest_s,
        "vault_lookup_s": sum(f.timings.get("vault_lookup", 0) for f in summary.files),
        "copy_s": sum(f.timings.get("copy", 0) for f in summary.files),
        "parse_rate": parse_rate,
    }


GENERATE_SQL = """
insert into raw.app_events (event_id, anonymous_user_id, event_type, occurred_at, payload, file_sha256)
with
shoppers as (
    select u, gen_random_uuid() as anonymous_user_id,
           (array['NSW','VIC','QLD','WA','SA','TAS','ACT'])[1 + (u * 7919) %% 7] as region
    from generate_series(0::bigint, %(users)s::bigint - 1) as u
),
lists as (
    select l, l %% %(users)s as u,
           timestamptz '2026-01-05' + ((l * 7) %% (84 * 86400)) * interval '1 second' as created_at
    from generate_series(%(first)s::bigint, %(last)s::bigint) as l
),
steps as (
    select lists.*, s.anonymous_user_id, s.region, i
    from lists join shoppers s using (u) cross join generate_series(0, 9) as i
)
select
    'b' || l || '-' || i,
    anonymous_user_id,
    case when i = 0 then 'list_created' when i between 1 and 7 then 'item_added'
         when i = 8 and l %% 2 = 0 then 'substitution_chosen' when i = 8 then 'item_removed'
         else 'optimizer_request' end,
    created_at + i * interval '1 minute',
    case
        when i = 0 then jsonb_build_object('list_id', 'l' || l)
        when i between 1 and 7 then jsonb_build_object('list_id', 'l' || l,
            'product_key', (%(products)s::text[])[1 + ((l * 31 + i * 17 + (l * i) %% 13) %% %(n_products)s)],
            'quantity', 1 + (l + i) %% 3)
        when i = 8 and l %% 2 = 0 then jsonb_build_object('list_id', 'l' || l,
            'from_product_key', (%(products)s::text[])[1 + ((l * 31 + 17 + l %% 13) %% %(n_products)s)],
            'to_product_key', (%(products)s::text[])[1 + ((l * 31 + 17 + l %% 13 + 1) %% %(n_products)s)])
        when i = 8 then jsonb_build_object('list_id', 'l' || l,
            'product_key', (%(products)s::text[])[1 + ((l * 31 + 34 + (l * 2) %% 13) %% %(n_products)s)])
        else jsonb_build_object('list_id', 'l' || l, 'region', region, 'max_stores', 1 + l %% 3)
    end,
    'bench-synthetic'
from steps
"""


def bench_trends_build(settings: Settings, build_events: int, users: int, k: int) -> dict:
    products = publish_synthetic_catalog_ref(settings)
    lists = build_events // 10
    started = time.perf_counter()
    with psycopg.connect(settings.database_url("behavior")) as conn:
        conn.execute(
            "insert into raw.event_files values ('bench-synthetic', 'synthetic', %s, now())", (build_events,)
        )
        chunk = 250_000
        for first in range(0, lists, chunk):
            conn.execute(
                GENERATE_SQL,
                {
                    "users": users,
                    "first": first,
                    "last": min(first + chunk, lists) - 1,
                    "products": products,
                    "n_products": len(products),
                },
            )
            conn.commit()
        conn.execute(
            "insert into raw.trend_consents select distinct on (anonymous_user_id) anonymous_user_id,"
            " abs(hashtext(anonymous_user_id::text)) % 4 <> 0, now() from raw.app_events"
            " where file_sha256 = 'bench-synthetic' on conflict do nothing"
        )
        conn.commit()
        conn.execute("analyze raw.app_events")
        conn.execute("analyze raw.trend_consents")
        total = conn.execute("select count(*) from raw.app_events").fetchone()[0]
    generate_s = time.perf_counter() - started

    from orchestration.defs.dbt.project import DBT_PROJECT_DIR, dbt_env, dbt_executable

    target = Path(tempfile.mkdtemp(prefix="dbt-bench-"))
    started = time.perf_counter()
    result = subprocess.run(
        [
            dbt_executable(), "build", "--target", "behavior", "--select", "tag:trends",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--vars", f"{{k_threshold: {k}}}",
        ],
        env={**os.environ, **dbt_env(settings), "DBT_LOG_PATH": str(target)},
        capture_output=True, text=True, cwd=DBT_PROJECT_DIR,
    )  # fmt: skip
    build_s = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-5000:], file=sys.stderr)
        raise SystemExit("dbt build failed")
    run_results = json.loads((target / "run_results.json").read_text())
    shutil.rmtree(target, ignore_errors=True)
    per_model = {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in run_results["results"]
        if r["unique_id"].startswith("model.")
    }
    tests_s = sum(r["execution_time"] for r in run_results["results"] if r["unique_id"].startswith("test."))
    with psycopg.connect(settings.database_url("behavior")) as conn:
        rows = {
            t: conn.execute(f"select count(*) from trends.{t}").fetchone()[0]
            for t in sorted(m for m in per_model if m.startswith("trends_"))
        }
    return {
        "events": total,
        "generate_s": generate_s,
        "build_s": build_s,
        "per_model": per_model,
        "tests_s": tests_s,
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=None, help="default: events / 46 (4 lists each)")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--build-events", type=int, default=10_000_000)
    parser.add_argument("--build-users", type=int, default=200_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the temporary cluster running")
    args = parser.parse_args()

    args.users = args.users or max(1, round(args.events / 46))  # ~11.5 events per list, 4 lists each
    with throwaway_warehouse(keep=args.keep) as settings:
        ing = bench_ingestion(settings, args.events, args.users, args.files)
        print("\n(a) app event ingestion (pseudonymization through the vault, COPY into behaviour raw)")
        print(f"| {'measure':44s} | {'value':>16s} |")
        print(f"|{'-' * 46}|{'-' * 18}|")
        rows = [
            ("events simulated (JSONL)", f"{ing['simulated_events']:,}"),
            ("shoppers in the vault", f"{ing['users']:,}"),
            ("files / size", f"{ing['files']} / {ing['size_mb']:.0f} MB"),
            ("simulate + write files (not timed below)", f"{ing['generate_s']:.1f} s"),
            ("parse + validate only (1 file, Python)", f"{ing['parse_rate']:,.0f} ev/s"),
            ("ingest wall time", f"{ing['ingest_s']:.1f} s"),
            ("  of which vault batch lookups (sum)", f"{ing['vault_lookup_s']:.2f} s"),
            ("  of which COPY into raw.app_events (sum)", f"{ing['copy_s']:.1f} s"),
            ("events loaded / dropped (erased users)", f"{ing['loaded']:,} / {ing['dropped_erased']:,}"),
            ("PII fields dropped / files rejected", f"{ing['pii_fields_dropped']:,} / {ing['rejected']}"),
            ("INGEST THROUGHPUT (target >= 50,000)", f"{ing['rate']:,.0f} ev/s"),
        ]
        for name, value in rows:
            print(f"| {name:44s} | {value:>16s} |")

        if args.build_events:
            tb = bench_trends_build(settings, args.build_events, args.build_users, args.k)
            print(
                f"\n(b) trends build at {tb['events']:,} events in raw.app_events (dbt build --target behavior)"
            )
            print(f"| {'measure':44s} | {'value':>16s} |")
            print(f"|{'-' * 46}|{'-' * 18}|")
            print(f"| {'generate events in SQL (not timed below)':44s} | {tb['generate_s']:>14.1f} s |")
            for model, seconds in sorted(tb["per_model"].items(), key=lambda kv: -kv[1]):
                print(f"| {'  model ' + model:44s} | {seconds:>14.1f} s |")
            print(f"| {'  data tests (sum)':44s} | {tb['tests_s']:>14.1f} s |")
            print(f"| {'TRENDS BUILD WALL TIME (models + tests)':44s} | {tb['build_s']:>14.1f} s |")
            for table, count in tb["rows"].items():
                print(f"| {'  rows ' + table:44s} | {count:>16,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
