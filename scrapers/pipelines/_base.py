"""Shared plumbing for the pipelines: crawler stats and landing file handles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

LANDING_DIR_SETTING = "SMARTCART_LANDING_DIR"


class StatsMixin:
    """Counts under ``smartcart/<key>`` in the crawler's stats when run by Scrapy; no-op in unit tests."""

    stats: Any = None

    def inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"smartcart/{key}", count)


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
