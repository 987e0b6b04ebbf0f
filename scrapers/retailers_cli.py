"""`smartcart retailers list` and `smartcart retailers check TARGET`: the registry from the command line.

``check`` crawls at most ``--pages`` pages of TARGET (a registry name, or a site/sitemap/robots.txt
URL, read as a ``schema_org_sitemap`` shop unless ``--format`` says otherwise) through the real
spider and pipelines into a temporary folder, loads nothing, and prints what would be extracted
and every reject with its reason. A URL target becomes a registry entry written to a temporary
``SMARTCART_RETAILERS_DIR``: exactly what adding the shop for real would be.

Exit codes: 0 when the check ran (whatever it found); 2 on bad arguments or an unreachable target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from scrapers.registry import (
    EXTRA_DIRS_ENV,
    FORMATS,
    RegistryError,
    load_registry,
    parse_entry,
)
from warehouse.domain.landing import (
    CRAWL_STATS_FILE,
    PRICE_OBSERVATIONS_FILE,
    REJECTED_ITEMS_FILE,
    read_copy_text,
)

CHECK_RETAILER = "retailers_check_target"
NO_CURRENCY = "XXX"  # ISO 4217 "no currency": the page must name it, or the row is a reject
OBSERVATION_FIELDS = (
    "product_name", "brand", "price", "was_price", "currency", "gtin", "package_quantity",
    "package_unit", "pack_count", "unit_price", "in_stock", "retailer_product_id", "store_id",
    "source_url",
)  # fmt: skip


class CheckError(Exception):
    """Bad arguments or an unreachable target: exit code 2."""


def add_parser(sub: Any) -> None:
    retailers = sub.add_parser("retailers", help="the retailer registry: list entries, check a shop")
    actions = retailers.add_subparsers(dest="retailers_action", required=True)
    listing = actions.add_parser("list", help="every registered retailer")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)
    check = actions.add_parser(
        "check", help="crawl a few pages of a shop, load nothing, print what was found"
    )
    check.add_argument("target", help="a registry name, or a site / sitemap / robots.txt URL")
    check.add_argument("--format", choices=FORMATS, default=None, help="site format of a URL target")
    check.add_argument("--currency", default=None, help="ISO 4217 currency of a URL target, e.g. EUR")
    check.add_argument("--locale", default=None, help="CLDR locale the site writes numbers in, e.g. de_DE")
    check.add_argument("--pages", type=int, default=20, help="fetch at most N pages (default 20)")
    check.add_argument("--json", action="store_true", help="print JSON: observations, rejects, pages")
    check.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    check.set_defaults(func=run_check)


def run_list(args: argparse.Namespace) -> int:
    try:
        registry = load_registry()
    except RegistryError as exc:
        print(f"smartcart: {exc}", file=sys.stderr)
        return 2
    rows = [
        {
            "name": e.name, "display_name": e.display_name, "format": e.format, "site_url": e.site_url,
            "currency": e.currency, "locale": e.locale, "country": e.country,
            "demo": e.demo is not None, "file": str(e.source_file),
        }
        for e in registry.values()
    ]  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':<16} {'format':<19} {'currency':<8} {'locale':<7} {'country':<7} site")
    for row in rows:
        demo = "  (demo market)" if row["demo"] else ""
        print(
            f"{row['name']:<16} {row['format']:<19} {row['currency']:<8} {row['locale']:<7} "
            f"{row['country']:<7} {row['site_url']}{demo}"
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        result = check_target(
            args.target, spider_format=args.format, currency=args.currency, locale=args.locale,
            pages=args.pages, timeout=args.timeout,
        )  # fmt: skip
    except CheckError as exc:
        print(f"smartcart retailers check: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        _print_human(result)
    return 0


def check_target(
    target: str,
    spider_format: str | None = None,
    currency: str | None = None,
    locale: str | None = None,
    pages: int = 20,
    timeout: float = 300,
) -> dict[str, Any]:
    """Crawl at most ``pages`` pages of ``target``; return observations, rejects and pages fetched."""
    if pages < 1:
        raise CheckError("--pages must be at least 1")
    with tempfile.TemporaryDirectory(prefix="smartcart-check-") as work:
        work_dir = Path(work)
        env = dict(os.environ)
        retailer, base_url = _resolve_target(target, spider_format, currency, locale, work_dir, env)
        landing = work_dir / "landing"
        cmd = [
            sys.executable, "-m", "scrapers.crawl", "--retailer", retailer, "--base-url", base_url,
            "--scrape-date", dt.date.today().isoformat(), "--run-id", "retailers-check",
            "--landing-dir", str(landing), "--log-level", "WARNING", "--spider-arg", f"max_pages={pages}",
        ]  # fmt: skip
        repo_root = Path(__file__).resolve().parents[1]
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo_root), env.get("PYTHONPATH")) if p)
        try:
            completed = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=repo_root
            )
        except subprocess.TimeoutExpired:
            raise CheckError(f"{target} did not answer within {timeout:.0f}s: is it reachable?") from None
        if completed.returncode == 2:
            raise CheckError(
                completed.stderr.strip().splitlines()[-1] if completed.stderr else "bad arguments"
            )
        stats_path = landing / CRAWL_STATS_FILE
        if not stats_path.exists():
            tail = "\n".join(completed.stderr.strip().splitlines()[-5:])
            raise CheckError(f"the crawl of {target} did not run:\n{tail}")
        stats = json.loads(stats_path.read_text())
        observations = [_observation(row) for row in _price_rows(landing)]
        rejects = [
            {"url": r.get("source_url"), "reason": r.get("reason")}
            for r in _jsonl(landing / REJECTED_ITEMS_FILE)
        ]
        kept = []
        for row in observations:
            if row["currency"] == NO_CURRENCY:
                rejects.append(
                    {"url": row["source_url"], "reason": "the page names no currency: pass --currency"}
                )
            else:
                kept.append(row)
        failures = int(stats.get("errors") or 0)
        if stats.get("pages", 0) == 0 and failures:
            raise CheckError(f"{target} is unreachable: {stats.get('message')}")
        if failures:
            rejects.append({"url": base_url, "reason": f"fetch failed: {stats.get('message')}"})
        return {"observations": kept, "rejects": rejects, "pages": int(stats.get("pages", 0))}


def _resolve_target(
    target: str,
    spider_format: str | None,
    currency: str | None,
    locale: str | None,
    work_dir: Path,
    env: dict[str, str],
) -> tuple[str, str]:
    """(spider name, base_url). A URL becomes a registry entry in a temporary extra folder."""
    if urlsplit(target).scheme in ("http", "https"):
        document: dict[str, Any] = {
            "display_name": urlsplit(target).hostname,
            "format": spider_format or "schema_org_sitemap",
            "site_url": target,
            "currency": (currency or NO_CURRENCY).upper(),
            "locale": locale or "en_US",
            "country": "ZZ",  # unknown region (CLDR's code for it)
        }
        if locale is None:
            document["decimal_separator"] = None  # unknown: "1.234" is quarantined, not guessed
        if document["format"] != "schema_org_sitemap":
            raise CheckError(
                f"a URL target is read as a schema_org_sitemap shop; a {document['format']} site needs "
                "its field maps: add it to the registry and check it by name"
            )
        folder = work_dir / "registry"
        folder.mkdir()
        path = folder / f"{CHECK_RETAILER}.yaml"
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        try:
            parse_entry(path, document)
        except RegistryError as exc:
            raise CheckError(str(exc).replace(f"retailer registry file {path}", "target")) from None
        env[EXTRA_DIRS_ENV] = os.pathsep.join(p for p in (env.get(EXTRA_DIRS_ENV), str(folder)) if p)
        return CHECK_RETAILER, target
    try:
        registry = load_registry()
    except RegistryError as exc:
        raise CheckError(str(exc)) from None
    if target not in registry:
        raise CheckError(
            f"{target!r} is neither a registered retailer ({', '.join(registry)}) nor an http(s) URL"
        )
    if spider_format or currency or locale:
        raise CheckError("--format/--currency/--locale apply to a URL target; a registry entry has its own")
    entry = registry[target]
    market = os.environ.get("SMARTCART_MARKET_URL")
    if entry.demo is not None and not market:
        raise CheckError(
            f"{target} lives on the demo market: start it (`smartcart market`) and set SMARTCART_MARKET_URL"
        )
    return target, entry.base_url(market)


def _price_rows(landing: Path) -> list[dict[str, Any]]:
    path = landing / PRICE_OBSERVATIONS_FILE
    return read_copy_text(path) if path.exists() else []


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _observation(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in OBSERVATION_FIELDS:
        value = row.get(name)
        if name == "in_stock" and value is not None:
            value = str(value).lower() in ("t", "true")
        elif name == "pack_count" and value is not None:
            value = int(value)
        out[name] = value
    return out


def _print_human(result: dict[str, Any]) -> None:
    observations, rejects = result["observations"], result["rejects"]
    print(f"{result['pages']} pages read: {len(observations)} observations, {len(rejects)} rejects")
    for row in observations:
        size = (
            f"{row['package_quantity']} {row['package_unit']} (x{row['pack_count']})"
            if row["package_quantity"]
            else "size ?"
        )
        was = f" was {row['was_price']}" if row["was_price"] else ""
        stock = {True: "in stock", False: "out of stock"}.get(row["in_stock"], "stock ?")
        print(
            f"- {row['product_name']} | {row['brand'] or '-'} | {row['price']} {row['currency']}{was} | "
            f"GTIN {row['gtin'] or '-'} | {size} | unit price {row['unit_price'] or '-'} | {stock} | "
            f"{row['source_url']}"
        )
    for reject in rejects:
        print(f"! {reject['url']}: {reject['reason']}")
