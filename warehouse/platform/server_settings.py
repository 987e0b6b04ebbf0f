"""The embedded cluster's server settings: durability, memory, and dead-client detection.

Written to ``<data dir>/smartcart.conf`` at every start (not only at initdb), so a changed
setting takes effect on the next `smartcart db stop && smartcart db start`, and clusters made
by older code lose settings we no longer want (``synchronous_commit = off`` lost commits that
had returned: issue 12).

Knobs (environment, read when the cluster starts):
- SMARTCART_PG_MEMORY: memory the whole cluster may use (e.g. ``2GB``). Default: a quarter of
  this machine's memory (or cgroup limit), at most 4 GB, so a laptop keeps room for dbt, Dagster
  and the browser. The test fixtures set a small value, because tests run several clusters.
- SMARTCART_PG_SHARED_BUFFERS: shared_buffers itself, overriding the share of the budget.
- SMARTCART_PG_WAL_LEVEL: ``minimal`` (default: nothing streams from the embedded cluster, and
  tables created or truncated in a transaction skip WAL and are fsynced at commit) or ``replica``.
- SMARTCART_PG_CLIENT_CHECK_INTERVAL: how often a running query checks that its client is still
  there (default ``2s``), so a killed run's queries stop instead of running to the end.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from warehouse.platform.config import ConfigurationError

CONF_FILE = "smartcart.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_FILE}'"
DEFAULT_MEMORY_CAP_MB = 4096
MIN_SHARED_BUFFERS_MB = 128
WAL_LEVELS = ("minimal", "replica")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb)?\s*$", re.IGNORECASE)
_UNIT_MB = {"kb": 1 / 1024, "mb": 1, "gb": 1024, "tb": 1024 * 1024, None: 1}
_DURATION = re.compile(r"^\s*\d+\s*(ms|s|min|h)?\s*$")


def parse_size_mb(text: str, variable: str) -> int:
    """'512MB', '2GB', '1.5gb' or a bare number of MB -> whole MB; a clear error otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ConfigurationError(f"{variable}={text!r} is not a size; write it like 512MB or 2GB")
    number, unit = match.groups()
    return int(float(number) * _UNIT_MB[unit.lower() if unit else None])


def machine_memory_bytes() -> int:
    """Physical memory, or the cgroup limit when the container has a smaller one."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            memory = min(memory, int(limit))
    return memory


def memory_budget_mb(env: Mapping[str, str] | None = None, memory_bytes: int | None = None) -> int:
    env = os.environ if env is None else env
    if env.get("SMARTCART_PG_MEMORY"):
        return parse_size_mb(env["SMARTCART_PG_MEMORY"], "SMARTCART_PG_MEMORY")
    memory_bytes = machine_memory_bytes() if memory_bytes is None else memory_bytes
    return min(DEFAULT_MEMORY_CAP_MB, memory_bytes // 4 // 2**20)


def memory_settings(env: Mapping[str, str] | None = None, memory_bytes: int | None = None) -> dict[str, str]:
    """shared_buffers, work_mem, maintenance_work_mem, effective_cache_size from one budget."""
    env = os.environ if env is None else env
    budget = memory_budget_mb(env, memory_bytes)
    if env.get("SMARTCART_PG_SHARED_BUFFERS"):
        shared_buffers = parse_size_mb(env["SMARTCART_PG_SHARED_BUFFERS"], "SMARTCART_PG_SHARED_BUFFERS")
    else:
        shared_buffers = budget // 4  # the usual quarter, of the budget rather than of the machine
    shared_buffers = max(MIN_SHARED_BUFFERS_MB, shared_buffers)
    return {
        "shared_buffers": f"{shared_buffers}MB",
        # A few sorts/hashes per query and a handful of concurrent queries fit in the budget.
        "work_mem": f"{max(4, min(64, budget // 32))}MB",
        "maintenance_work_mem": f"{max(64, min(1024, budget // 8))}MB",
        "effective_cache_size": f"{max(budget, shared_buffers * 2)}MB",
    }


def server_settings(env: Mapping[str, str] | None = None, memory_bytes: int | None = None) -> dict[str, str]:
    """Every setting SmartCart manages in the embedded cluster, as postgresql.conf values."""
    env = os.environ if env is None else env
    wal_level = env.get("SMARTCART_PG_WAL_LEVEL", "minimal")
    if wal_level not in WAL_LEVELS:
        raise ConfigurationError(f"SMARTCART_PG_WAL_LEVEL={wal_level!r}: use one of {', '.join(WAL_LEVELS)}")
    check_interval = env.get("SMARTCART_PG_CLIENT_CHECK_INTERVAL", "2s")
    if not _DURATION.match(check_interval):
        raise ConfigurationError(
            f"SMARTCART_PG_CLIENT_CHECK_INTERVAL={check_interval!r} is not a duration; write it like 2s or 500ms"
        )
    settings = memory_settings(env, memory_bytes)
    settings.update(
        {
            # Durability is not negotiable: a commit that returned survives a crash.
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            # Durable ways to keep bulk loads fast: no WAL for tables created/truncated in the
            # loading transaction (minimal), big WAL between checkpoints, compressed page images.
            "wal_level": wal_level,
            "max_wal_senders": "0" if wal_level == "minimal" else "10",
            "max_wal_size": env.get("SMARTCART_PG_MAX_WAL_SIZE", "8GB"),
            "checkpoint_timeout": "15min",
            "wal_compression": "lz4",
            "max_connections": "200",
            # A client that died (killed run, closed laptop lid) no longer leaves its query running.
            "client_connection_check_interval": check_interval,
        }
    )
    return settings


def _conf_value(value: str) -> str:
    return value if re.fullmatch(r"[0-9a-z_.]+", value) else "'" + value.replace("'", "''") + "'"


def write_server_settings(data_dir: Path, settings: Mapping[str, str]) -> Path:
    """Write smartcart.conf, include it from postgresql.conf, and drop the same keys from
    postgresql.auto.conf (read last, it would override us; older SmartCart wrote them there)."""
    conf = data_dir / CONF_FILE
    lines = ["# Written by SmartCart at every start (warehouse/platform/server_settings.py); edits are lost."]
    lines += [f"{name} = {_conf_value(value)}" for name, value in settings.items()]
    conf.write_text("\n".join(lines) + "\n")
    main_conf = data_dir / "postgresql.conf"
    text = main_conf.read_text()
    if INCLUDE_LINE not in text:
        main_conf.write_text(text.rstrip("\n") + f"\n{INCLUDE_LINE}\n")
    auto_conf = data_dir / "postgresql.auto.conf"
    if auto_conf.exists():
        kept = [
            line
            for line in auto_conf.read_text().splitlines()
            if line.split("=", 1)[0].strip() not in settings
        ]
        auto_conf.write_text("\n".join(kept) + "\n")
    return conf
