"""Spiders per site format (``scrapers.spiders.base``); retailers are registry entries, not classes.

``spider_class(entry)`` turns a ``scrapers.registry`` entry into a configured subclass of its
format's spider; ``scrapers.spiders.loader.RegistrySpiderLoader`` gives Scrapy one per entry.
"""
