"""Which retailers are configured and where each lives: a thin view of ``scrapers.registry``.

Real deployments crawl each entry's ``site_url``; ``smartcart demo``/``ui`` and the Dagster assets
derive the demo retailers' URLs from one market root with ``site_url``. Free of Scrapy imports
(Dagster uses it).
"""

from __future__ import annotations

from scrapers.registry import get_retailer, load_registry, retailer_names

__all__ = ["DEMO_RETAILERS", "RETAILERS", "load_registry", "retailer_names", "site_url"]

# The registry is read at import; tests that register shops at run time call retailer_names().
RETAILERS: tuple[str, ...] = retailer_names()
DEMO_RETAILERS: tuple[str, ...] = retailer_names(demo_only=True)


def site_url(market_url: str | None, retailer: str) -> str:
    """The base_url of ``retailer``'s spider: on the demo market rooted at ``market_url`` for the
    market's own retailers, the entry's ``site_url`` for every other one."""
    return get_retailer(retailer).base_url(market_url)
