"""nextmart: a Next.js storefront (see ``scrapers.demo_market.nextmart``)."""

from scrapers.spiders.base import NextDataSpider


class NextmartSpider(NextDataSpider):
    name = "nextmart"
    retailer = "nextmart"
    currency = "AUD"
    store_field_map = {
        "store_id": "id",
        "store_name": "displayName",
        "address": "address.line1",
        "postcode": "address.postcode",
        "region": "address.state",
        "latitude": "geo.lat",
        "longitude": "geo.lng",
    }
    product_field_map = {
        "retailer_product_id": "id",
        "product_name": "name",
        "brand": "brand",
        "category_path": "category",
        "package_size_text": "size",
        "price": "pricing.now",
        "was_price": "pricing.was",
        "unit_price_text": "pricing.unit",
        "in_stock": "availability",
    }
    # The demo market runs on this machine: no floor delay; AutoThrottle and the per-domain cap apply.
    politeness = {
        "DOWNLOAD_DELAY": 0.0,
        "AUTOTHROTTLE_START_DELAY": 0.05,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    }
