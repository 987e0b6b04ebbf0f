"""Scrapy's spider loader over the retailer registry: ``scrapy crawl <retailer>`` for every entry.

Each registry entry becomes a subclass of its format's spider carrying the entry's data (name,
currency, locale, politeness, field maps, options) as class attributes: Scrapy reads settings
from the class (``update_settings``) before any instance exists.
"""

from __future__ import annotations

from typing import Any

from scrapers.registry import FORMAT_OPTIONS, RetailerEntry, get_retailer, load_registry
from scrapers.spiders.base import NextDataSpider, PagedJsonApiSpider, RetailerSpider, SitemapJsonLdSpider

FORMAT_SPIDERS: dict[str, type[RetailerSpider]] = {
    "paged_json_api": PagedJsonApiSpider,
    "nextjs": NextDataSpider,
    "schema_org_sitemap": SitemapJsonLdSpider,
}
assert set(FORMAT_SPIDERS) == set(FORMAT_OPTIONS), "every registry format needs a spider class"


def spider_class(entry: RetailerEntry) -> type[RetailerSpider]:
    """The spider class of one retailer: its format's class configured by the entry."""
    base = FORMAT_SPIDERS[entry.format]
    attributes: dict[str, Any] = {
        "name": entry.name,
        "retailer": entry.name,
        "currency": entry.currency,
        "locale": entry.locale,
        "decimal_separator": entry.decimal_separator,
        "politeness": dict(entry.politeness),
        "registry_entry": entry,
        "__module__": __name__,
        "__doc__": f"{entry.display_name} ({entry.format}), from {entry.source_file}.",
    }
    if entry.store_field_map:
        attributes["store_field_map"] = dict(entry.store_field_map)
    if entry.product_field_map:
        attributes["product_field_map"] = dict(entry.product_field_map)
    attributes.update(entry.options)
    class_name = "".join(part.capitalize() for part in entry.name.split("_")) + "Spider"
    return type(class_name, (base,), attributes)


class RegistrySpiderLoader:
    """Implements Scrapy's ``ISpiderLoader`` from ``scrapers.registry`` (SPIDER_LOADER_CLASS)."""

    def __init__(self, settings: Any = None):
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Any) -> RegistrySpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type[RetailerSpider]:
        return spider_class(get_retailer(spider_name))

    def list(self) -> list[str]:
        return list(load_registry())

    def find_by_request(self, request: Any) -> list[str]:
        return [name for name in self.list() if self.load(name).handles_request(request)]
