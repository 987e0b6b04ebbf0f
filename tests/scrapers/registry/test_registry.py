"""The retailer registry: entries as data, bad entries named by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scrapers.registry import FORMATS, RegistryError, load_registry, retailer_names
from scrapers.spiders.loader import FORMAT_SPIDERS, spider_class

GOOD = {
    "format": "schema_org_sitemap",
    "site_url": "https://shop.example/sitemap.xml",
    "currency": "EUR",
    "locale": "de_DE",
    "country": "DE",
}


def write(folder: Path, name: str, document: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_demo_retailers_are_registry_entries_with_their_format_spiders():
    registry = load_registry()
    assert {"freshmart", "nextmart", "cornershop"} <= set(registry)
    assert {registry[n].format for n in ("freshmart", "nextmart", "cornershop")} == set(FORMATS)
    for entry in registry.values():
        cls = spider_class(entry)
        assert issubclass(cls, FORMAT_SPIDERS[entry.format]) and cls.name == entry.name
    assert retailer_names(demo_only=True)[:3] == ("freshmart", "nextmart", "cornershop")


def test_a_new_schema_org_shop_is_one_file(tmp_path, monkeypatch):
    write(tmp_path, "bioladen", {**GOOD, "display_name": "Bioladen"})
    monkeypatch.setenv("SMARTCART_RETAILERS_DIR", str(tmp_path))
    entry = load_registry()["bioladen"]
    assert (entry.decimal_separator, entry.grouping_separator, entry.demo) == (",", ".", None)
    cls = spider_class(entry)
    assert (cls.currency, cls.locale, cls.decimal_separator) == ("EUR", "de_DE", ",")
    assert "bioladen" in retailer_names() and "bioladen" not in retailer_names(demo_only=True)


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"format": "magic_api"}, "format", "unknown format 'magic_api'; known formats: paged_json_api"),
        ({"currency": None}, "currency", "missing"),
        ({"currency": "EURO"}, "currency", "not an ISO 4217"),
        ({"currency": "XYZ"}, "currency", "not an ISO 4217"),
        ({"site_url": "https://shop.example/products/tea.html"}, "site_url", "is no sitemap"),
        ({"site_url": "ftp://shop.example/sitemap.xml"}, "site_url", "http(s) URL"),
        ({"locale": "xx_YY"}, "locale", "unknown locale"),
        ({"locale": None}, "locale", "missing"),
        ({"country": "Germany"}, "country", "ISO 3166"),
        ({"decimal_separator": ";"}, "decimal_separator", "must be"),
        ({"options": {"page_size": 10}}, "options.page_size", "not an option of format schema_org_sitemap"),
        ({"colour": "green"}, "colour", "unknown field"),
        ({"politeness": {"download_delay": 1}}, "politeness", "Scrapy setting names"),
        ({"field_maps": {"product": {"prize": "p"}}}, "field_maps.product.prize", "not a product field"),
        ({"format": "paged_json_api", "site_url": "https://api.example"}, "field_maps.store", "missing"),
        ({"name": "other"}, "name", "differs from the file name"),
    ],
)
def test_bad_entries_fail_naming_the_file_and_the_field(tmp_path, change, field, says):
    document = {**GOOD, **change}
    if change.get("currency", "") is None:
        document.pop("currency")
    if change.get("locale", "") is None:
        document.pop("locale")
    path = write(tmp_path, "badshop", document)
    with pytest.raises(RegistryError) as raised:
        load_registry([tmp_path])
    message = str(raised.value)
    assert str(path) in message and f"field '{field}'" in message and says in message


def test_a_name_registered_twice_names_both_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    write(first, "dup", GOOD)
    write(second, "dup", GOOD)
    with pytest.raises(RegistryError, match="already registered by .*a/dup.yaml"):
        load_registry([first, second])


def test_invalid_yaml_is_named(tmp_path):
    (tmp_path / "broken.yaml").write_text("format: [unclosed", encoding="utf-8")
    with pytest.raises(RegistryError, match="broken.yaml: not valid YAML"):
        load_registry([tmp_path])


@pytest.mark.parametrize(
    "url", ["https://s.example", "https://s.example/", "https://s.example/robots.txt",
            "https://s.example/sitemap_index.xml", "https://s.example/media/sitemap.xml.gz",
            "https://s.example/sitemap-products"],
)  # fmt: skip
def test_sitemap_like_urls_are_accepted(tmp_path, url):
    write(tmp_path, "okshop", {**GOOD, "site_url": url})
    assert load_registry([tmp_path])["okshop"].site_url == url
