"""Every fault the demo market serves, against every spider, over real HTTP in a subprocess:
the run survives, transient faults are retried (429 after its Retry-After), bad records and
unreadable pages are quarantined with their reason, and nothing is landed twice."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from scrapers.crawl import run_crawl_subprocess
from scrapers.demo_market import launch
from scrapers.retailers import site_url
from warehouse.domain.landing import read_copy_text

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAY = dt.date(2026, 11, 22)
ALL_FAULTS = (
    "rate_limit_every=5,error_every=6,slow_every=9,truncate_every=7,malformed_every=11,"
    "missing_prices_every=13,rename_every=17,slow_seconds=0.3,retry_after=1"
)
# small pages for freshmart so that every fault lands on some page
SPIDER_ARGS = {"freshmart": {"page_size": 10}, "nextmart": {}, "cornershop": {}}
# what a renamed price field is quarantined as: a field-mapped source names the absent key; a
# schema.org page simply has no price left in its offers
RENAMED = {
    "freshmart": "source field price absent from the record",
    "nextmart": "source field pricing.now absent from the record",
    "cornershop": "no price in the product's offers",
}


# nextmart's product pages (one per product) outnumber its listings: pick listing pages more often
FAULTS = {
    "freshmart": ALL_FAULTS,
    "cornershop": ALL_FAULTS,
    "nextmart": ALL_FAULTS.replace("rename_every=17", "rename_every=3").replace(
        "malformed_every=11", "malformed_every=4"
    ),
}


def _read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.mark.parametrize("retailer", ["freshmart", "nextmart", "cornershop"])
def test_crawl_survives_every_fault(retailer, tmp_path):
    with launch(seed=42, products=120, stores=2, date=DAY, faults=FAULTS[retailer]) as market:
        landing = run_crawl_subprocess(
            retailer, site_url(market.base_url, retailer), DAY, f"fault-{retailer}", tmp_path / "l",
            spider_args=SPIDER_ARGS[retailer],
        )  # fmt: skip
    stats = landing.stats
    assert landing.succeeded, stats["message"]
    assert stats["errors"] == 0 and stats["pages"] == stats["pages_expected"]
    # transient faults were retried: 500s by Scrapy, 429 after waiting Retry-After, truncation by re-fetch
    assert stats["rate_limited"] >= 1 and stats["rate_limit_wait_seconds"] >= stats["rate_limited"] * 1.0
    assert stats["retries"] > stats["rate_limited"]
    prices = read_copy_text(landing.price_observations_path)
    rejects = _read_jsonl(landing.rejected_items_path)
    reasons = [r["reason"] for r in rejects]
    # permanent faults are quarantined with their reason
    assert any(r.startswith("page: unreadable page after 3 fetches") for r in reasons), reasons
    assert any(RENAMED[retailer] in r for r in reasons), reasons
    assert all(r["run_id"] == f"fault-{retailer}" and r["payload"] for r in rejects)
    assert stats["rejects"] == len(rejects) and stats["items"] == len(prices) > 0
    # nothing twice
    keys = [(p["store_id"], p["retailer_product_id"]) for p in prices]
    assert len(keys) == len(set(keys))
