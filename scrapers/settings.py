"""Scrapy settings for every SmartCart crawl. Politeness is on by default; a retailer's spider may
tighten it (or, for the local demo market only, relax the delay) through ``politeness``.
"""

BOT_NAME = "smartcart"
SMARTCART_VERSION = "0.1"
# Spiders are built from the retailer registry (scrapers/registry/*.yaml), one per entry.
SPIDER_LOADER_CLASS = "scrapers.spiders.loader.RegistrySpiderLoader"
NEWSPIDER_MODULE = "scrapers.spiders"

# Politeness: identify ourselves, obey robots.txt, adapt to the site's latency, cap concurrency.
USER_AGENT = f"SmartCartBot/{SMARTCART_VERSION} (+https://github.com/smartcart)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5  # the floor AutoThrottle never goes below
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
MEMUSAGE_ENABLED = True  # peak memory lands in crawl_stats.json (memory_max_bytes)
RETRY_ENABLED = True
RETRY_TIMES = 3
# 429/503 are retried by RetryAfterMiddleware (it waits what Retry-After says); 5xx and lost
# connections by Scrapy's RetryMiddleware.
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
SMARTCART_RETRY_AFTER_MAX = 60.0
SMARTCART_RETRY_AFTER_DEFAULT = 1.0
DOWNLOADER_MIDDLEWARES = {"scrapers.middlewares.RetryAfterMiddleware": 560}

# HTTP cache for replays (opt-in: `python -m scrapers.crawl --http-cache DIR`, or set these).
# With it on, a re-run replays stored responses instead of hitting the site.
HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 0
HTTPCACHE_IGNORE_HTTP_CODES = [429, 500, 502, 503, 504]
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "scrapers.pipelines.validation.ValidationPipeline": 100,
    "scrapers.pipelines.price.PricePipeline": 200,
    "scrapers.pipelines.pack_size.PackSizePipeline": 300,
    "scrapers.pipelines.gtin.GtinPipeline": 400,
    "scrapers.pipelines.dedupe.DedupePipeline": 500,
    "scrapers.pipelines.quarantine.QuarantinePipeline": 800,
    "scrapers.pipelines.landing_writer.LandingWriterPipeline": 900,
}

# Spiders hand each page's items to the pipelines as one batch (see scrapers.pipelines._base).
SMARTCART_ITEM_BATCHES = True

# Set per crawl by scrapers.crawl: where the landing files go.
SMARTCART_LANDING_DIR = None
SMARTCART_DEFAULT_CURRENCY = None
# Set per retailer from its registry entry: how its pages write numbers ("de_DE" / ",").
SMARTCART_PRICE_LOCALE = None
SMARTCART_DECIMAL_SEPARATOR = None
