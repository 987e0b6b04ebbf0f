"""Crawl health gates: is a crawl that completed also whole enough to sell?

A crawl can finish (every page fetched, ADR 0002) and still have lost rows: records quarantined
for a missing price, pages quarantined whole as unreadable. The loader measures each crawl
against per-retailer thresholds and records it ``succeeded`` or ``degraded`` in
``raw.scrape_runs`` (with the measures and the breaches in ``health``). Degraded data is loaded
and reaches the marts (``catalog.fct_crawl_health`` flags the retailer-day), but a delivery never
ships it: the catalog quality suites block on it.

The measures, each with a threshold (``CrawlHealthThresholds``):

- ``reject_share``: quarantined records / (loaded rows + quarantined records);
- ``quarantined_page_share``: pages quarantined whole / pages fetched;
- ``rows_vs_previous``: rows / rows of the retailer's previous good (succeeded) day;
- ``coverage_vs_previous``: (rows / (stores x products)) of this crawl over the same ratio on the
  previous good day: catches stores that lost part of their shelf while others kept it.

Thresholds come from ``crawl_health_thresholds(retailer)``: the defaults, then
``SMARTCART_CRAWL_HEALTH`` (JSON: ``{"default": {...}, "<retailer>": {...}}``), then
``SMARTCART_CRAWL_HEALTH_<RETAILER>_<FIELD>`` (e.g. ``SMARTCART_CRAWL_HEALTH_NEXTMART_MAX_REJECT_SHARE``).
The retailer registry can supply its own layer later through the same function.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

__all__ = [
    "CrawlHealth",
    "CrawlHealthThresholds",
    "PreviousGoodDay",
    "assess_crawl",
    "configured_retailers",
    "crawl_health_thresholds",
    "previous_good_day",
]

HEALTH_ENV = "SMARTCART_CRAWL_HEALTH"
STATUS_SUCCEEDED, STATUS_DEGRADED = "succeeded", "degraded"


@dataclass(frozen=True)
class CrawlHealthThresholds:
    """Limits beyond which a crawl is degraded. Defaults let a normal demo crawl pass (it has no
    rejects and the same shelf every day) and flag one that lost about 5% of its rows."""

    max_reject_share: float = 0.02
    max_quarantined_page_share: float = 0.02
    min_rows_vs_previous: float = 0.95
    min_coverage_vs_previous: float = 0.95

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))


def _overrides(source: str, values: Mapping[str, Any]) -> dict[str, float]:
    names = CrawlHealthThresholds.field_names()
    chosen = {}
    for name, raw in values.items():
        if name not in names:
            raise ValueError(f"{source}: unknown crawl health threshold {name!r}; expected one of {names}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{source}: {name}={raw!r} is not a number (a share such as 0.05)") from None
        if not 0 <= value <= 1:  # also rejects nan
            raise ValueError(f"{source}: {name}={raw!r} must be a share between 0 and 1")
        chosen[name] = value
    return chosen


def crawl_health_thresholds(retailer: str, env: Mapping[str, str] | None = None) -> CrawlHealthThresholds:
    """The thresholds for ``retailer``: defaults < SMARTCART_CRAWL_HEALTH (JSON) < per-field env vars.
    Raises ``ValueError`` naming the variable when a value is not usable."""
    env = os.environ if env is None else env
    chosen: dict[str, float] = {}
    document = env.get(HEALTH_ENV, "").strip()
    if document:
        try:
            parsed = json.loads(document)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{HEALTH_ENV} is not JSON ({exc}); e.g. '{{\"default\": {{...}}}}'") from None
        if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
            raise ValueError(f'{HEALTH_ENV} must map "default" or a retailer to its thresholds')
        chosen |= _overrides(f"{HEALTH_ENV}[default]", parsed.get("default", {}))
        chosen |= _overrides(f"{HEALTH_ENV}[{retailer}]", parsed.get(retailer, {}))
    prefix = f"{HEALTH_ENV}_{retailer.upper().replace('-', '_')}_"
    for name in CrawlHealthThresholds.field_names():
        variable = prefix + name.upper()
        if env.get(variable, "").strip():
            chosen |= _overrides(variable, {name: env[variable]})
    return CrawlHealthThresholds(**chosen)


def configured_retailers(env: Mapping[str, str] | None = None) -> list[str]:
    """Retailers that have thresholds of their own in the environment (JSON or per-field vars)."""
    env = os.environ if env is None else env
    named: set[str] = set()
    document = env.get(HEALTH_ENV, "").strip()
    if document:
        try:
            parsed = json.loads(document)
        except json.JSONDecodeError:
            parsed = {}
        named |= {key for key in parsed if key != "default"} if isinstance(parsed, dict) else set()
    suffixes = tuple("_" + name.upper() for name in CrawlHealthThresholds.field_names())
    for variable in env:
        if variable.startswith(HEALTH_ENV + "_") and variable.endswith(suffixes):
            middle = variable[len(HEALTH_ENV) + 1 :]
            for suffix in suffixes:
                if middle.endswith(suffix):
                    named.add(middle[: -len(suffix)].lower().replace("_", "-"))
    return sorted(named)


@dataclass(frozen=True)
class PreviousGoodDay:
    scrape_date: dt.date
    rows: int
    stores: int
    products: int


def previous_good_day(cursor: psycopg.Cursor, retailer: str, scrape_date: dt.date) -> PreviousGoodDay | None:
    """The retailer's latest succeeded crawl before ``scrape_date`` (its last run of that day)."""
    cursor.execute(
        "select scrape_date, items, stores, products from raw.scrape_runs"
        " where retailer = %s and scrape_date < %s and status = 'succeeded' and products is not null"
        " order by scrape_date desc, finished_at desc limit 1",
        (retailer, scrape_date),
    )
    row = cursor.fetchone()
    return PreviousGoodDay(*row) if row else None


@dataclass(frozen=True)
class CrawlHealth:
    """The verdict on one crawl: its measures, the thresholds used and what was breached."""

    retailer: str
    scrape_date: dt.date
    status: str
    measures: dict[str, float | None]
    thresholds: CrawlHealthThresholds
    breaches: list[str] = field(default_factory=list)
    previous_good_day: dt.date | None = None

    @property
    def degraded(self) -> bool:
        return self.status == STATUS_DEGRADED

    def summary(self) -> str:
        if not self.breaches:
            return f"{self.retailer} {self.scrape_date}: healthy"
        return f"{self.retailer} {self.scrape_date} degraded: " + "; ".join(self.breaches)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "measures": self.measures,
            "thresholds": dataclasses.asdict(self.thresholds),
            "breaches": self.breaches,
            "previous_good_day": self.previous_good_day.isoformat() if self.previous_good_day else None,
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def assess_crawl(
    retailer: str,
    scrape_date: dt.date,
    *,
    rows: int,
    rejects: int,
    pages: int,
    pages_quarantined: int,
    stores: int,
    products: int,
    previous: PreviousGoodDay | None,
    thresholds: CrawlHealthThresholds | None = None,
) -> CrawlHealth:
    """Measure a crawl against the thresholds (pure: no database)."""
    limits = thresholds or crawl_health_thresholds(retailer)
    coverage = _share(rows, stores * products)
    measures: dict[str, float | None] = {
        "rows": rows,
        "stores": stores,
        "products": products,
        "reject_share": _share(rejects, rows + rejects),
        "quarantined_page_share": _share(pages_quarantined, pages),
        "rows_vs_previous": None,
        "coverage": coverage,
        "coverage_vs_previous": None,
    }
    breaches = []
    if measures["reject_share"] is not None and measures["reject_share"] > limits.max_reject_share:
        breaches.append(
            f"{rejects} of {rows + rejects} records quarantined ({measures['reject_share']:.1%}, "
            f"threshold {limits.max_reject_share:.1%})"
        )
    page_share = measures["quarantined_page_share"]
    if page_share is not None and page_share > limits.max_quarantined_page_share:
        breaches.append(
            f"{pages_quarantined} of {pages} pages quarantined ({page_share:.1%}, "
            f"threshold {limits.max_quarantined_page_share:.1%})"
        )
    if rows == 0:
        breaches.append("no rows at all")
    if previous is not None and previous.rows > 0:
        ratio = round(rows / previous.rows, 4)
        measures["rows_vs_previous"] = ratio
        if ratio < limits.min_rows_vs_previous:
            breaches.append(
                f"{rows} rows vs {previous.rows} on {previous.scrape_date} ({ratio - 1:+.1%}, "
                f"threshold {limits.min_rows_vs_previous - 1:+.1%})"
            )
        previous_coverage = _share(previous.rows, previous.stores * previous.products)
        if coverage is not None and previous_coverage:
            coverage_ratio = round(coverage / previous_coverage, 4)
            measures["coverage_vs_previous"] = coverage_ratio
            if coverage_ratio < limits.min_coverage_vs_previous:
                breaches.append(
                    f"store x product coverage {coverage:.1%} vs {previous_coverage:.1%} on "
                    f"{previous.scrape_date} ({coverage_ratio - 1:+.1%}, threshold "
                    f"{limits.min_coverage_vs_previous - 1:+.1%})"
                )
    return CrawlHealth(
        retailer,
        scrape_date,
        STATUS_DEGRADED if breaches else STATUS_SUCCEEDED,
        measures,
        limits,
        breaches,
        previous.scrape_date if previous else None,
    )
