"""Housekeeping: what SmartCart keeps, and for how long.

Every stage writes to disk or to a table and nothing else ever cleans up: crawl landings, drop
folders, deliveries, Great Expectations Data Docs, dbt's per-run target folders, demo/run logs,
the embedded server's log and the optimizer's query cache. This module applies one retention
setting to each (``RetentionSettings``, from ``SMARTCART_KEEP_*`` variables read when called), and
the ``housekeeping`` Dagster jobs run it on schedules.

Rules that keep it safe to run any time:
- the newest item of every kind is always kept, whatever the setting (the current delivery, the
  last Data Docs, the dbt folder a running build may still write);
- only folders/files SmartCart itself writes, under known roots, are removed; ``0`` disables a rule;
- rejected drop files are evidence for the contributor and kept longer (their reasons sit beside them).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from warehouse.platform.config import REPO_ROOT, ConfigurationError, Settings

CACHE_ROLE = "smartcart_app_api"  # owns writes to serving.optimizer_cache (roles.yml)
DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DBT_TARGET_DIR = REPO_ROOT / "dbt_project" / "target"
# dagster-dbt writes one folder per invocation: <asset name>-<run id prefix>-<hash>
DBT_RUN_FOLDER = re.compile(r"^[a-z0-9_]+-[0-9a-f]{7,8}-[0-9a-f]{6,8}$")

_DEFAULTS = {
    "SMARTCART_KEEP_LANDING_DAYS": 14,  # crawl landings and loaded/skipped drop files
    "SMARTCART_KEEP_REJECTED_DAYS": 90,  # rejected drop files and their reasons
    "SMARTCART_KEEP_DELIVERIES": 14,  # delivery folders per kind (catalog, trends)
    "SMARTCART_KEEP_QUALITY_DOCS": 10,  # Data Docs folders (one per run)
    "SMARTCART_KEEP_DBT_RUN_TARGETS": 10,  # dagster-dbt's per-run target folders
    "SMARTCART_KEEP_LOG_DAYS": 14,  # SMARTCART_HOME/logs (demo and run logs)
    "SMARTCART_SERVER_LOG_MAX_MB": 20,  # rotate the embedded server's log above this size
    "SMARTCART_SERVER_LOG_KEEP": 3,  # rotated server logs kept (server.log.1 .. .N)
}


@dataclass(frozen=True)
class RetentionSettings:
    landing_days: int = _DEFAULTS["SMARTCART_KEEP_LANDING_DAYS"]
    rejected_days: int = _DEFAULTS["SMARTCART_KEEP_REJECTED_DAYS"]
    deliveries: int = _DEFAULTS["SMARTCART_KEEP_DELIVERIES"]
    quality_docs: int = _DEFAULTS["SMARTCART_KEEP_QUALITY_DOCS"]
    dbt_run_targets: int = _DEFAULTS["SMARTCART_KEEP_DBT_RUN_TARGETS"]
    log_days: int = _DEFAULTS["SMARTCART_KEEP_LOG_DAYS"]
    server_log_max_mb: int = _DEFAULTS["SMARTCART_SERVER_LOG_MAX_MB"]
    server_log_keep: int = _DEFAULTS["SMARTCART_SERVER_LOG_KEEP"]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetentionSettings:
        env = os.environ if env is None else env
        values = {}
        for (name, default), attribute in zip(_DEFAULTS.items(), cls.__dataclass_fields__, strict=True):
            raw = (env.get(name) or "").strip()
            if not raw:
                values[attribute] = default
                continue
            if not raw.isdigit():
                raise ConfigurationError(
                    f"{name}={raw!r} is not a whole number >= 0; set it to e.g. {default} (0 turns the rule off)"
                )
            values[attribute] = int(raw)
        return cls(**values)


@dataclass
class HousekeepingReport:
    removed: dict[str, list[str]] = field(default_factory=dict)
    freed_bytes: int = 0
    cache_rows_purged: int = 0
    server_log_rotated: bool = False

    def note(self, kind: str, path: Path) -> None:
        self.freed_bytes += _size(path)
        self.removed.setdefault(kind, []).append(str(path))

    def counts(self) -> dict[str, int]:
        return {kind: len(paths) for kind, paths in self.removed.items()}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def keep_newest(folders: list[Path], keep: int) -> list[Path]:
    """The folders beyond the ``keep`` newest (by mtime, then name); never the newest one."""
    if keep <= 0 or not folders:
        return []
    ordered = sorted(folders, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return ordered[max(keep, 1) :]


def _expired_landing_days(landing: Path, days: int, today: dt.date) -> list[Path]:
    if days <= 0 or not landing.is_dir():
        return []
    cutoff = today - dt.timedelta(days=days)
    expired = []
    for retailer in (p for p in landing.iterdir() if p.is_dir()):
        day_folders = sorted(p for p in retailer.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name))
        for folder in day_folders[:-1]:  # the retailer's latest day stays, however old
            if dt.date.fromisoformat(folder.name) < cutoff:
                expired.append(folder)
    return expired


def _old_files(folder: Path, days: int, now: float) -> list[Path]:
    if days <= 0 or not folder.is_dir():
        return []
    cutoff = now - days * 86400
    return [p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]


def plan_removals(
    settings: Settings,
    retention: RetentionSettings,
    now: dt.datetime | None = None,
    dbt_target: Path | None = None,
) -> dict[str, list[Path]]:
    """What the retention rules would remove, by kind (nothing is touched)."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.timestamp()
    plan: dict[str, list[Path]] = {
        "landing": _expired_landing_days(settings.landing_dir, retention.landing_days, now.date())
    }
    dropzone = settings.home / "dropzone"
    for kind in sorted(p for p in dropzone.iterdir() if p.is_dir()) if dropzone.is_dir() else []:
        for outcome, days in (("loaded", retention.landing_days), ("processed", retention.landing_days),
                              ("skipped", retention.landing_days), ("rejected", retention.rejected_days)):  # fmt: skip
            plan.setdefault(f"dropzone/{outcome}", []).extend(_old_files(kind / outcome, days, stamp))
    deliveries = []
    if settings.deliveries_dir.is_dir():
        for kind in (p for p in settings.deliveries_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            # `latest` (a symlink) and whatever it points at are never removed
            pinned = {p.resolve() for p in kind.iterdir() if p.is_symlink()}
            folders = [p for p in kind.iterdir() if p.is_dir() and not p.is_symlink()]
            deliveries += [p for p in keep_newest(folders, retention.deliveries) if p.resolve() not in pinned]
    plan["deliveries"] = deliveries
    quality = settings.home / "quality"
    plan["quality_docs"] = keep_newest(
        [p for p in quality.iterdir() if p.is_dir()] if quality.is_dir() else [], retention.quality_docs
    )
    target = dbt_target or DBT_TARGET_DIR
    plan["dbt_run_targets"] = keep_newest(
        [p for p in target.iterdir() if p.is_dir() and DBT_RUN_FOLDER.match(p.name)]
        if target.is_dir()
        else [],
        retention.dbt_run_targets,
    )
    plan["logs"] = _old_files(settings.home / "logs", retention.log_days, stamp)
    return {kind: paths for kind, paths in plan.items() if paths}


def rotate_log(path: Path, max_bytes: int, keep: int) -> bool:
    """Copy-and-truncate ``path`` into path.1 (older copies shift up to .keep) when it is too big.

    The server keeps the file open in append mode, so truncating in place is safe and needs no
    restart; a copy beyond ``keep`` is dropped.
    """
    if max_bytes <= 0 or keep <= 0 or not path.is_file() or path.stat().st_size <= max_bytes:
        return False
    for number in range(keep, 0, -1):
        older = path.with_name(f"{path.name}.{number}")
        if number == keep:
            older.unlink(missing_ok=True)
        elif older.exists():
            older.rename(path.with_name(f"{path.name}.{number + 1}"))
    shutil.copy2(path, path.with_name(f"{path.name}.1"))
    with path.open("r+b") as handle:
        handle.truncate(0)
    return True


def purge_optimizer_cache(settings: Settings) -> int:
    """Delete expired rows of serving.optimizer_cache; returns how many went."""
    with psycopg.connect(settings.database_url("catalog", CACHE_ROLE)) as conn:
        return conn.execute("delete from serving.optimizer_cache where expires_at <= now()").rowcount


def apply_retention(
    settings: Settings,
    retention: RetentionSettings | None = None,
    now: dt.datetime | None = None,
    dbt_target: Path | None = None,
) -> HousekeepingReport:
    """Remove what the retention rules say may go, and rotate the server log."""
    retention = retention or RetentionSettings.from_env()
    report = HousekeepingReport()
    for kind, paths in plan_removals(settings, retention, now, dbt_target).items():
        for path in paths:
            report.note(kind, path)
            _remove(path)
    report.server_log_rotated = rotate_log(
        settings.cluster_dir / "server.log",
        retention.server_log_max_mb * 1024 * 1024,
        retention.server_log_keep,
    )
    return report
