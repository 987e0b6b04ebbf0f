"""Where the crawls go: each retailer's site URL, the crawl timeout and the HTTP cache switch.

A resource, not per-op config, so one setting reaches every retailer's crawl step and the
launchpad shows it once. Retailer sites come from the retailer registry (``scrapers.retailers``).
"""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field

from scrapers.registry import get_retailer
from scrapers.retailers import site_url

MARKET_URL_ENV = "SMARTCART_MARKET_URL"


class CrawlSitesResource(dg.ConfigurableResource):
    """Retailer sites to crawl: ``site_urls`` per retailer, else derived from one market root."""

    base_url: str = Field(
        default="",
        description="Market root each retailer's site is derived from; empty: SMARTCART_MARKET_URL "
        "(set by `smartcart ui` / `demo`).",
    )
    site_urls: dict[str, str] = Field(
        default_factory=dict, description="Per-retailer site URL overriding the one derived from base_url."
    )
    crawl_timeout_seconds: float = Field(default=1800, description="Kill a crawl that runs longer.")
    http_cache: bool = Field(
        default=False, description="Replay/store responses under SMARTCART_HOME/httpcache."
    )

    def site_for(self, retailer: str) -> str:
        """The URL to crawl for ``retailer``; a Failure that says what to set when none is known."""
        if retailer in self.site_urls:
            return self.site_urls[retailer]
        root = self.base_url or os.environ.get(MARKET_URL_ENV, "")  # read at run time, never at import
        if not root and get_retailer(retailer).demo is not None:  # a real shop crawls its own site_url
            raise dg.Failure(
                f"no site to crawl for {retailer}: set resources.crawl_sites.config.base_url (or site_urls) "
                f"in the run config, or {MARKET_URL_ENV} (`smartcart market` serves the demo market)",
                allow_retries=False,
            )
        return site_url(root or None, retailer)
