"""One short spider per retailer; behaviour lives in the base classes of ``scrapers.spiders.base``."""
