"""The day partitions every day-partitioned SmartCart asset shares (crawls, raw landing, dbt).

``end_offset=1``: today's partition exists (we scrape today's prices today). The first day is
configurable (SMARTCART_PARTITIONS_START, YYYY-MM-DD) and defaults to 30 days before the day
the code location loads, so the UI shows a month of partitions, not years of empty ones.
Other domains partitioned by day reuse ``scrape_days``, so one job carries scraped and
downstream assets with one partition key per day.
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

PARTITIONS_START_ENV = "SMARTCART_PARTITIONS_START"
DEFAULT_HISTORY_DAYS = 30


def partitions_start(env: dict[str, str] | None = None, today: dt.date | None = None) -> dt.date:
    """The first day partition: SMARTCART_PARTITIONS_START, else ``today`` - 30 days."""
    env = os.environ if env is None else env
    value = (env.get(PARTITIONS_START_ENV) or "").strip()
    if not value:
        return (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{PARTITIONS_START_ENV}={value!r} is not a date: set it to the first day to partition, "
            "as YYYY-MM-DD (or unset it for the last 30 days)"
        ) from None


# Read once, when the code location is built: a partitions definition is part of the graph.
scrape_days = dg.DailyPartitionsDefinition(start_date=partitions_start().isoformat(), end_offset=1)
