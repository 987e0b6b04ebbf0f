"""Shared plumbing for the pipelines: crawler stats and landing file handles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from scrapy.exceptions import DropItem

from scrapers.items import ItemBatch
from warehouse.platform.safe_write import DiskFull, disk_full_error, fsync_and_rename, is_disk_full

LANDING_DIR_SETTING = "SMARTCART_LANDING_DIR"


class StatsMixin:
    """Counts under ``smartcart/<key>`` in the crawler's stats when run by Scrapy; no-op in unit tests.

    Also the batch dispatch every pipeline shares: a pipeline implements ``process_one`` for a
    single item (raising ``DropItem`` to drop it); ``process_item`` applies it to a single item or
    to each item of an ``ItemBatch`` (dropped items leave the batch). Spiders yield one batch per
    page because Scrapy's per-item machinery (signals, tasks) costs more than our pipelines do.
    """

    stats: Any = None
    _pending: dict[str, int] | None = None  # counts of the batch being processed

    def inc(self, key: str, count: int = 1) -> None:
        if self.stats is None:
            return
        if self._pending is not None:  # inside a batch: counted once per page, not once per item
            self._pending[key] = self._pending.get(key, 0) + count
        else:
            self.stats.inc_value(f"smartcart/{key}", count)

    def process_one(self, item: Any) -> Any:  # pragma: no cover - every pipeline overrides it
        raise NotImplementedError

    def process_item(self, item: Any, spider: Any = None) -> Any:
        try:
            return self._process_item(item)
        except DiskFull as exc:  # one clear message in the crawl's stats (summarise_crawl shows it)
            if self.stats is not None:
                self.stats.set_value("smartcart/disk_full", str(exc))
            raise

    def close_landing_files(self, *writers: _LandingFile | None) -> None:
        """Close (fsync + rename) each landing file; a full disk is recorded as the crawl's one
        message and every partial file is removed, so no half-written file stays behind."""
        disk_full: DiskFull | None = None
        for writer in writers:
            if writer is None:
                continue
            try:
                writer.close()
            except DiskFull as exc:
                disk_full = disk_full or exc
        if disk_full is not None:
            # Recorded, not raised: Scrapy would skip the next pipelines' close (and leave their
            # partial files); the crawl's stats now say failed, with this one message.
            if self.stats is None:
                raise disk_full
            self.stats.set_value("smartcart/disk_full", str(disk_full))

    def _process_item(self, item: Any) -> Any:
        if isinstance(item, ItemBatch):
            kept = []
            self._pending = {}
            try:
                for one in item.items:
                    try:
                        kept.append(self.process_one(one))
                    except DropItem:
                        continue
            finally:
                pending, self._pending = self._pending, None
                for key, count in pending.items():
                    self.inc(key, count)
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


class _LandingFile:
    """A landing file written under ``<name>.part`` and renamed, fsynced, on ``close``: a crash or a
    full disk never leaves a half-written file under the name the loader reads."""

    def __init__(self, path: Path):
        self.path = path
        self._partial = path.with_name(path.name + ".part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] = self._partial.open("w", encoding="utf-8", buffering=1 << 20)
        except OSError as exc:
            raise self._error(exc) from None
        self.count = 0

    def _error(self, exc: OSError) -> OSError:
        return disk_full_error(self.path.parent, exc) if is_disk_full(exc) else exc

    def _write(self, text: str) -> None:
        try:
            self._file.write(text)
        except OSError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        try:
            fsync_and_rename(self._file, self._partial, self.path)
        except OSError as exc:
            self._partial.unlink(missing_ok=True)
            raise self._error(exc) from None


class JsonLinesWriter(_LandingFile):
    """Appends one JSON object per line; buffered, so memory stays flat however long the crawl."""

    def write(self, row: dict[str, Any]) -> None:
        self._write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        self.count += 1


class CopyTextWriter(_LandingFile):
    """Appends rows already formatted as COPY text lines; buffered like ``JsonLinesWriter``."""

    def write_line(self, line: str) -> None:
        self._write(line)
        self.count += 1
