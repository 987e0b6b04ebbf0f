"""Shared plumbing for the pipelines: crawler stats and landing file handles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from scrapy.exceptions import DropItem

from scrapers.items import ItemBatch

LANDING_DIR_SETTING = "SMARTCART_LANDING_DIR"


class StatsMixin:
    """Counts under ``smartcart/<key>`` in the crawler's stats when run by Scrapy; no-op in unit tests.

    Also the batch dispatch every pipeline shares: a pipeline implements ``process_one`` for a
    single item (raising ``DropItem`` to drop it); ``process_item`` applies it to a single item or
    to each item of an ``ItemBatch`` (dropped items leave the batch). Spiders yield one batch per
    page because Scrapy's per-item machinery (signals, tasks) costs more than our pipelines do.
    """

    stats: Any = None

    def inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"smartcart/{key}", count)

    def process_one(self, item: Any) -> Any:  # pragma: no cover - every pipeline overrides it
        raise NotImplementedError

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, ItemBatch):
            kept = []
            for one in item.items:
                try:
                    kept.append(self.process_one(one))
                except DropItem:
                    continue
            item.items = kept
            return item
        return self.process_one(item)


def landing_dir_from_settings(settings: Any) -> Path:
    value = settings.get(LANDING_DIR_SETTING)
    if not value:
        raise ValueError(
            f"setting {LANDING_DIR_SETTING} is not set: run crawls with `python -m scrapers.crawl "
            "--landing-dir DIR ...` (or -s SMARTCART_LANDING_DIR=DIR)"
        )
    return Path(value)


class JsonLinesWriter:
    """Appends one JSON object per line; buffered, so memory stays flat however long the crawl."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8", buffering=1 << 20)
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str))
        self._file.write("\n")
        self.count += 1

    def close(self) -> None:
        self._file.close()


class CopyTextWriter:
    """Appends rows already formatted as COPY text lines; buffered like ``JsonLinesWriter``."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8", buffering=1 << 20)
        self.count = 0

    def write_line(self, line: str) -> None:
        self._file.write(line)
        self.count += 1

    def close(self) -> None:
        self._file.close()
