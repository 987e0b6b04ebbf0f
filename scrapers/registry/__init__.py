"""The retailer registry: one YAML file per retailer, read by the spiders, the CLI, Dagster and the demo.

A file ``<name>.yaml`` in this folder (or in a folder listed in ``SMARTCART_RETAILERS_DIR``,
``os.pathsep``-separated) declares one retailer:

- ``format``: which spider class crawls it (``FORMATS``): ``paged_json_api``, ``nextjs``,
  ``schema_org_sitemap`` (any shop with a sitemap and schema.org JSON-LD, microdata or RDFa);
- ``site_url``: the site (for ``schema_org_sitemap``: its sitemap, robots.txt or root);
- ``currency`` (ISO 4217), ``locale`` (CLDR, e.g. ``de_DE``: gives the decimal and grouping
  separators unless ``decimal_separator``/``grouping_separator`` say otherwise), ``country``
  (ISO 3166 alpha-2), ``region``;
- ``politeness``: Scrapy settings for this site (delays, AutoThrottle, concurrency);
- ``field_maps``: ``store``/``product`` maps from SmartCart item fields to the source's keys
  (dotted paths) for the JSON formats; ``options``: the format's knobs (``FORMAT_OPTIONS``);
- ``demo``: only for the demo market's own retailers (where the market serves it, its profile).

A bad entry raises ``RegistryError`` naming the file and the field. Free of Scrapy imports, so
Dagster and the CLI can read it cheaply.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

REGISTRY_DIR = Path(__file__).resolve().parent
EXTRA_DIRS_ENV = "SMARTCART_RETAILERS_DIR"

# format -> the options its spider class takes from the registry (class attributes of that spider)
FORMAT_OPTIONS: dict[str, frozenset[str]] = {
    "paged_json_api": frozenset(
        {"stores_path", "products_path", "page_size", "stores_key", "products_key", "total_pages_key"}
    ),
    "nextjs": frozenset(
        {
            "stores_path",
            "stores_props_key",
            "listing_path",
            "data_listing_path",
            "product_path",
            "products_props_key",
            "total_pages_path",
            "page_size",
            "use_data_route",
        }
    ),  # fmt: skip
    "schema_org_sitemap": frozenset(
        {"sitemap_follow", "page_filter", "online_store_id", "modified_since_days"}
    ),
}
FORMATS: tuple[str, ...] = tuple(FORMAT_OPTIONS)
_FIELD_MAPS_REQUIRED = {"paged_json_api", "nextjs"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_KNOWN_KEYS = {
    "name", "display_name", "format", "site_url", "currency", "locale", "decimal_separator",
    "grouping_separator", "country", "region", "politeness", "field_maps", "options", "demo",
}  # fmt: skip
_DEMO_KEYS = {"order", "path", "prefix", "carries", "price_level", "gtin_dropped", "missing_price_rate"}
_ITEM_FIELDS = {
    "store": {"store_id", "store_name", "address", "postcode", "latitude", "longitude", "region"},
    "product": {
        "retailer_product_id", "product_name", "brand", "category_path", "gtin", "package_size_text",
        "price", "was_price", "currency", "unit_price_text", "in_stock",
    },
}  # fmt: skip


class RegistryError(ValueError):
    """A registry entry is unusable; the message names the file and the field to fix."""


@dataclass(frozen=True)
class DemoPlacement:
    """Where the demo market serves a retailer of its own, and how that fictional chain behaves."""

    order: int
    path: str  # appended to the market root to give the spider's base_url
    prefix: str  # the URL prefix the market serves the retailer under ("" = site root)
    carries: float
    price_level: float
    gtin_dropped: float
    missing_price_rate: float


@dataclass(frozen=True)
class RetailerEntry:
    name: str
    display_name: str
    format: str
    site_url: str
    currency: str
    locale: str
    decimal_separator: str
    grouping_separator: str
    country: str
    region: str | None
    politeness: dict[str, Any] = field(default_factory=dict)
    store_field_map: dict[str, str] = field(default_factory=dict)
    product_field_map: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    demo: DemoPlacement | None = None
    source_file: Path | None = None

    def base_url(self, market_url: str | None = None) -> str:
        """The spider's base_url: on the demo market when one is given and this is a demo retailer."""
        if market_url and self.demo is not None:
            return market_url.rstrip("/") + self.demo.path
        return self.site_url


def registry_dirs() -> list[Path]:
    """This package's folder, then every folder in ``SMARTCART_RETAILERS_DIR``."""
    extra = [Path(p) for p in os.environ.get(EXTRA_DIRS_ENV, "").split(os.pathsep) if p.strip()]
    return [REGISTRY_DIR, *extra]


def load_registry(dirs: Iterable[Path] | None = None) -> dict[str, RetailerEntry]:
    """Every retailer entry, by name (sorted). Raises ``RegistryError`` on the first bad entry."""
    folders = list(dirs) if dirs is not None else registry_dirs()
    return dict(_load_cached(tuple(str(Path(d).resolve()) for d in folders), _stamp(folders)))


def retailer_names(demo_only: bool = False) -> tuple[str, ...]:
    """Registered retailer names; ``demo_only``: those the demo market serves, in market order."""
    registry = load_registry()
    if demo_only:
        demo = [e for e in registry.values() if e.demo is not None]
        return tuple(e.name for e in sorted(demo, key=lambda e: (e.demo.order, e.name)))  # type: ignore[union-attr]
    return tuple(registry)


def get_retailer(name: str) -> RetailerEntry:
    registry = load_registry()
    if name not in registry:
        raise KeyError(
            f"unknown retailer {name!r}; registered: {', '.join(registry)} "
            f"(add scrapers/registry/{name}.yaml or a folder in {EXTRA_DIRS_ENV})"
        )
    return registry[name]


def parse_entry(path: Path, document: Any) -> RetailerEntry:
    """Validate one file's document into an entry (``path`` only names the file in errors)."""

    def fail(field_name: str, problem: str) -> RegistryError:
        return RegistryError(f"retailer registry file {path}: field '{field_name}': {problem}")

    if not isinstance(document, dict):
        raise fail("(top level)", "expected a mapping of fields such as format, site_url, currency")
    unknown = sorted(set(document) - _KNOWN_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown field; known fields: {', '.join(sorted(_KNOWN_KEYS))}")
    name = document.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail("name", f"{name!r} must be lower-case letters, digits and _ (it names the spider)")
    if name != path.stem:
        raise fail("name", f"{name!r} differs from the file name {path.stem!r}: rename one")
    spider_format = document.get("format")
    if spider_format not in FORMAT_OPTIONS:
        raise fail("format", f"unknown format {spider_format!r}; known formats: {', '.join(FORMATS)}")
    currency = document.get("currency")
    if currency is None:
        raise fail("currency", "missing: give the ISO 4217 code prices are in, e.g. EUR")
    if not isinstance(currency, str) or not _CURRENCY.match(currency) or not _is_currency(currency):
        raise fail("currency", f"{currency!r} is not an ISO 4217 currency code such as EUR or AUD")
    locale = document.get("locale")
    if not isinstance(locale, str) or not locale:
        raise fail("locale", "missing: give the CLDR locale the site writes numbers in, e.g. de_DE")
    try:
        decimal_default, grouping_default = _separators(locale)
    except ValueError as exc:
        raise fail("locale", str(exc)) from None
    decimal_separator = document.get("decimal_separator", decimal_default)
    grouping_separator = document.get("grouping_separator", grouping_default)
    if decimal_separator not in (".", ","):
        raise fail("decimal_separator", f"{decimal_separator!r} must be '.' or ','")
    if not isinstance(grouping_separator, str) or grouping_separator == decimal_separator:
        raise fail("grouping_separator", f"{grouping_separator!r} must differ from the decimal separator")
    country = document.get("country")
    if not isinstance(country, str) or not _COUNTRY.match(country):
        raise fail("country", f"{country!r} must be an ISO 3166 alpha-2 code such as DE or AU")
    site_url = document.get("site_url")
    if not isinstance(site_url, str) or urlsplit(site_url).scheme not in ("http", "https"):
        raise fail("site_url", f"{site_url!r} must be an http(s) URL")
    if spider_format == "schema_org_sitemap" and not is_sitemap_url(site_url):
        raise fail(
            "site_url",
            f"{site_url!r} is no sitemap: give the sitemap (.xml, .xml.gz), the site's robots.txt "
            "or the site root",
        )
    politeness = document.get("politeness") or {}
    if not isinstance(politeness, dict) or not all(isinstance(k, str) and k.isupper() for k in politeness):
        raise fail("politeness", "must map Scrapy setting names (DOWNLOAD_DELAY, ...) to values")
    options = document.get("options") or {}
    if not isinstance(options, dict):
        raise fail("options", "must be a mapping")
    for option in options:
        if option not in FORMAT_OPTIONS[spider_format]:
            raise fail(
                f"options.{option}",
                f"not an option of format {spider_format}; its options: "
                f"{', '.join(sorted(FORMAT_OPTIONS[spider_format]))}",
            )
    field_maps = document.get("field_maps") or {}
    maps: dict[str, dict[str, str]] = {}
    for kind in ("store", "product"):
        given = field_maps.get(kind) if isinstance(field_maps, dict) else None
        if given is None:
            if spider_format in _FIELD_MAPS_REQUIRED:
                raise fail(f"field_maps.{kind}", f"missing: format {spider_format} needs the source's keys")
            continue
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise fail(f"field_maps.{kind}", "must map item fields to source keys (dotted paths)")
        for item_field in given:
            if item_field not in _ITEM_FIELDS[kind]:
                raise fail(
                    f"field_maps.{kind}.{item_field}",
                    f"not a {kind} field; fields: {', '.join(sorted(_ITEM_FIELDS[kind]))}",
                )
        maps[kind] = dict(given)
    if spider_format in _FIELD_MAPS_REQUIRED:
        for required in ("retailer_product_id", "price"):
            if required not in maps["product"]:
                raise fail(f"field_maps.product.{required}", "missing: every product needs it")
    demo = document.get("demo")
    placement = None
    if demo is not None:
        if not isinstance(demo, dict) or set(demo) != _DEMO_KEYS:
            raise fail("demo", f"must give exactly: {', '.join(sorted(_DEMO_KEYS))}")
        placement = DemoPlacement(**demo)
    return RetailerEntry(
        name=name,
        display_name=str(document.get("display_name") or name),
        format=spider_format,
        site_url=site_url,
        currency=currency,
        locale=locale,
        decimal_separator=decimal_separator,
        grouping_separator=grouping_separator,
        country=country,
        region=document.get("region"),
        politeness=dict(politeness),
        store_field_map=maps.get("store", {}),
        product_field_map=maps.get("product", {}),
        options=dict(options),
        demo=placement,
        source_file=path,
    )


def is_sitemap_url(url: str) -> bool:
    """A sitemap (.xml/.xml.gz, or a path naming a sitemap), a robots.txt, or a bare site root."""
    path = urlsplit(url).path.lower()
    return (
        path in ("", "/")
        or path.endswith((".xml", ".xml.gz", "/robots.txt"))
        or "sitemap" in path.rsplit("/", 1)[-1]
    )


def _stamp(folders: list[Path]) -> tuple[tuple[str, float], ...]:
    # re-read when a file is added or changed (tests register shops at run time)
    files = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            files.append((str(path), path.stat().st_mtime))
    return tuple(files)


@functools.lru_cache(maxsize=8)
def _load_cached(
    folders: tuple[str, ...], stamp: tuple[tuple[str, float], ...]
) -> tuple[tuple[str, RetailerEntry], ...]:
    entries: dict[str, RetailerEntry] = {}
    for file_name, _ in stamp:
        path = Path(file_name)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RegistryError(f"retailer registry file {path}: not valid YAML ({exc})") from None
        entry = parse_entry(path, document)
        if entry.name in entries:
            raise RegistryError(
                f"retailer registry file {path}: field 'name': {entry.name!r} is already registered "
                f"by {entries[entry.name].source_file}"
            )
        entries[entry.name] = entry
    return tuple(sorted(entries.items()))


def _is_currency(code: str) -> bool:
    from babel.numbers import list_currencies

    return code in list_currencies()


def _separators(locale: str) -> tuple[str, str]:
    from warehouse.domain.prices import locale_separators

    return locale_separators(locale)
