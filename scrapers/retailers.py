"""Where each configured retailer lives on the demo market (one process serves them all).

Real deployments pass each retailer's own site URL; ``smartcart demo``/``ui`` and the Dagster
assets derive them from one market root with ``site_url``. Free of Scrapy imports (Dagster uses it).
"""

from __future__ import annotations

# retailer (spider name) -> path under the market root that the spider takes as base_url
DEMO_SITE_PATHS: dict[str, str] = {
    "freshmart": "",
    "nextmart": "/nextmart",
    "cornershop": "/cornershop/sitemap.xml",
}
RETAILERS: tuple[str, ...] = tuple(DEMO_SITE_PATHS)


def site_url(market_url: str, retailer: str) -> str:
    """The base_url of ``retailer``'s spider on the demo market rooted at ``market_url``."""
    if retailer not in DEMO_SITE_PATHS:
        raise KeyError(f"unknown retailer {retailer!r}; configured: {', '.join(DEMO_SITE_PATHS)}")
    return market_url.rstrip("/") + DEMO_SITE_PATHS[retailer]
