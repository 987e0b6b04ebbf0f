"""cornershop: a plain HTML shop found through its sitemap, prices in schema.org JSON-LD.

Everything but the retailer's name and currency comes from ``SitemapJsonLdSpider``: a new shop of
this kind is this much configuration plus its sitemap URL as ``base_url``.
"""

from scrapers.spiders.base import SitemapJsonLdSpider


class CornershopSpider(SitemapJsonLdSpider):
    name = "cornershop"
    retailer = "cornershop"
    currency = "AUD"
    politeness = {
        "DOWNLOAD_DELAY": 0.0,
        "AUTOTHROTTLE_START_DELAY": 0.05,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    }
