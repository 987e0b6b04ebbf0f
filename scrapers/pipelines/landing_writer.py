"""LandingWriterPipeline: clean items streamed to ``price_observations.tsv`` (COPY text format)
and ``stores.jsonl``.

The last pipeline. Spiders never write to the database: ``warehouse.landing.loading`` COPYs these files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapers.items import PriceObservation, Store
from scrapers.pipelines._base import CopyTextWriter, JsonLinesWriter, StatsMixin, landing_dir_from_settings
from warehouse.domain.landing import (
    PRICE_OBSERVATION_COLUMNS,
    PRICE_OBSERVATIONS_FILE,
    STORES_FILE,
    copy_text_line,
)


class LandingWriterPipeline(StatsMixin):
    def __init__(self, landing_dir: Path):
        self.landing_dir = Path(landing_dir)
        self._prices: CopyTextWriter | None = None
        self._stores: JsonLinesWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> LandingWriterPipeline:
        pipeline = cls(landing_dir_from_settings(crawler.settings))
        pipeline.stats = crawler.stats
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        self._prices = CopyTextWriter(self.landing_dir / PRICE_OBSERVATIONS_FILE)
        self._stores = JsonLinesWriter(self.landing_dir / STORES_FILE)

    def close_spider(self, spider: Any = None) -> None:
        for writer in (self._prices, self._stores):
            if writer is not None:
                writer.close()

    def process_one(self, item: Any) -> Any:
        if self._prices is None or self._stores is None:
            raise RuntimeError("LandingWriterPipeline used before open_spider()")
        if item.reject_reason:  # QuarantinePipeline must run first; never land an invalid row
            raise RuntimeError(f"invalid item reached the landing writer: {item.reject_reason}")
        if isinstance(item, PriceObservation):
            self._prices.write_line(copy_text_line([getattr(item, c) for c in PRICE_OBSERVATION_COLUMNS]))
            self.inc("price_observations")
        elif isinstance(item, Store):
            self._stores.write(item.to_row())
            self.inc("stores")
        return item
