"""Every spider module imports, registers under a unique name, and declares what the base needs."""

import importlib
import pkgutil

import scrapy
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader

import scrapers.spiders
from scrapers import settings as project_settings
from scrapers.registry import retailer_names
from scrapers.spiders.base import RetailerSpider


def test_every_spider_module_imports():
    modules = [m.name for m in pkgutil.iter_modules(scrapers.spiders.__path__)]
    assert {"base", "loader"} <= set(modules)
    for name in modules:
        importlib.import_module(f"scrapers.spiders.{name}")


def test_spider_loader_finds_every_retailer_with_its_declarations():
    settings = Settings()
    settings.setmodule(project_settings)
    loader = get_spider_loader(settings)
    names = loader.list()
    assert "freshmart" in names
    for name in names:
        spider_cls = loader.load(name)
        assert issubclass(spider_cls, scrapy.Spider)
        if issubclass(spider_cls, RetailerSpider):
            assert spider_cls.retailer == name and spider_cls.currency and spider_cls.locale
            assert {"retailer_product_id", "product_name", "price", "in_stock"} <= set(
                spider_cls.product_field_map
            )
            assert {"store_id", "store_name"} <= set(spider_cls.store_field_map)


def test_politeness_defaults():
    assert project_settings.ROBOTSTXT_OBEY is True
    assert project_settings.AUTOTHROTTLE_ENABLED is True
    assert project_settings.USER_AGENT.startswith("SmartCartBot/0.1 (+https://")
    assert project_settings.CONCURRENT_REQUESTS_PER_DOMAIN <= 8


def test_every_retailer_has_a_spider_and_a_demo_site():
    settings = Settings()
    settings.setmodule(project_settings)
    assert sorted(get_spider_loader(settings).list()) == sorted(retailer_names())


def test_politeness_is_on_and_the_http_cache_is_opt_in():
    assert project_settings.HTTPCACHE_ENABLED is False
    assert "scrapers.middlewares.RetryAfterMiddleware" in project_settings.DOWNLOADER_MIDDLEWARES
    assert 429 not in project_settings.RETRY_HTTP_CODES  # RetryAfterMiddleware owns 429
