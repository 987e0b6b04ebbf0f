"""freshmart: the demo market's paged JSON API (see ``scrapers.demo_market.freshmart``)."""

from scrapers.spiders.base import PagedJsonApiSpider


class FreshmartSpider(PagedJsonApiSpider):
    name = "freshmart"
    retailer = "freshmart"
    currency = "AUD"
    page_size = 100
    store_field_map = {
        "store_id": "branchId",
        "store_name": "name",
        "address": "address",
        "postcode": "postcode",
        "latitude": "lat",
        "longitude": "lon",
        "region": "region",
    }
    product_field_map = {
        "retailer_product_id": "stockcode",
        "product_name": "name",
        "brand": "brand",
        "category_path": "categoryPath",
        "gtin": "barcode",
        "package_size_text": "packageSize",
        "price": "price",
        "was_price": "wasPrice",
        "unit_price_text": "cupString",
        "in_stock": "isInStock",
    }
    # The demo market runs on this machine: no floor delay needed; AutoThrottle and the
    # per-domain cap still apply. A real retailer keeps the defaults from scrapers.settings.
    politeness = {
        "DOWNLOAD_DELAY": 0.0,
        "AUTOTHROTTLE_START_DELAY": 0.05,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    }
