"""Retention rules on a real SMARTCART_HOME layout: what goes, what always stays."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from warehouse.platform.config import ConfigurationError, Settings
from warehouse.platform.housekeeping import RetentionSettings, apply_retention, plan_removals, rotate_log

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _touch(path: Path, age_days: float = 0, size: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = NOW.timestamp() - age_days * 86400
    os.utime(path, (stamp, stamp))
    return path


def _folder(path: Path, age_days: float) -> Path:
    _touch(path / "file.parquet", age_days)
    stamp = NOW.timestamp() - age_days * 86400
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return Settings.from_env({"SMARTCART_HOME": str(tmp_path / "home")})


def test_landing_days_older_than_the_setting_go_but_each_retailers_latest_day_stays(home: Settings):
    for retailer, days in (("freshmart", [1, 5, 20, 40]), ("cornershop", [30, 60])):
        for age in days:
            _folder(
                home.landing_dir / retailer / (NOW.date() - dt.timedelta(days=age)).isoformat() / "run1", age
            )
    plan = plan_removals(home, RetentionSettings(landing_days=14), NOW, dbt_target=home.home / "none")
    removed = sorted((p.parent.name, p.name) for p in plan["landing"])
    day = lambda age: (NOW.date() - dt.timedelta(days=age)).isoformat()  # noqa: E731
    # freshmart keeps 1 and 5 days; cornershop's newest (30 days) stays although it is old
    assert removed == sorted([("freshmart", day(20)), ("freshmart", day(40)), ("cornershop", day(60))])


def test_deliveries_keep_the_newest_n_per_kind_and_never_the_last(home: Settings):
    catalog = [_folder(home.deliveries_dir / "catalog" / f"2026112{i}T000000Z", 10 - i) for i in range(6)]
    trends = [_folder(home.deliveries_dir / "trends" / "20261101T000000Z", 30)]
    report = apply_retention(home, RetentionSettings(deliveries=2), NOW, dbt_target=home.home / "none")
    assert [p.exists() for p in catalog] == [False, False, False, False, True, True]
    assert trends[0].exists()
    assert report.counts()["deliveries"] == 4 and report.freed_bytes == 4 * 10
    assert not [p for p in catalog if p.exists()][:-2]
    # 0 turns a rule off; 1 keeps the newest whatever happens
    apply_retention(home, RetentionSettings(deliveries=0), NOW, dbt_target=home.home / "none")
    assert catalog[4].exists()


def test_the_delivery_latest_points_at_is_kept_even_when_old(home: Settings):
    folders = [_folder(home.deliveries_dir / "catalog" / f"2026112{i}T000000Z", 10 - i) for i in range(4)]
    (home.deliveries_dir / "catalog" / "latest").symlink_to(folders[0].name)  # a snapshot, deltas after it
    apply_retention(home, RetentionSettings(deliveries=1), NOW, dbt_target=home.home / "none")
    assert [p.exists() for p in folders] == [True, False, False, True]
    assert (home.deliveries_dir / "catalog" / "latest").resolve() == folders[0].resolve()


def test_quality_docs_dbt_run_targets_and_logs(home: Settings, tmp_path: Path):
    docs = [_folder(home.home / "quality" / f"run-{i}", 10 - i) for i in range(4)]
    target = tmp_path / "target"
    runs = [_folder(target / f"catalog_dbt_models-{i:07x}-abcdef1", 5 - i) for i in range(4)]
    manifest = _touch(target / "manifest.json", 100)
    other = _folder(target / "compiled", 100)  # dbt's own folders are never pruned
    old_log, new_log = (
        _touch(home.home / "logs" / "demo-old.log", 30),
        _touch(home.home / "logs" / "demo-new.log", 1),
    )
    retention = RetentionSettings(quality_docs=2, dbt_run_targets=1, log_days=14)
    apply_retention(home, retention, NOW, dbt_target=target)
    assert [p.exists() for p in docs] == [False, False, True, True]
    assert [p.exists() for p in runs] == [False, False, False, True]
    assert manifest.exists() and other.exists()
    assert not old_log.exists() and new_log.exists()


def test_drop_files_loaded_go_after_the_landing_days_rejected_ones_are_kept_longer(home: Settings):
    drop = home.home / "dropzone" / "crowd_reports"
    loaded_old, loaded_new = _touch(drop / "loaded" / "a.csv", 20), _touch(drop / "loaded" / "b.csv", 2)
    rejected = _touch(drop / "rejected" / "c.csv", 20)
    reasons = _touch(drop / "rejected" / "c.csv.reasons.json", 20)
    pending = _touch(drop / "d.csv", 400)  # not handled yet: never touched
    apply_retention(
        home, RetentionSettings(landing_days=14, rejected_days=90), NOW, dbt_target=home.home / "none"
    )
    assert not loaded_old.exists() and loaded_new.exists()
    assert rejected.exists() and reasons.exists() and pending.exists()
    apply_retention(home, RetentionSettings(rejected_days=10), NOW, dbt_target=home.home / "none")
    assert not rejected.exists() and not reasons.exists() and pending.exists()


def test_server_log_rotates_by_copy_and_truncate_keeping_n(tmp_path: Path):
    log = tmp_path / "server.log"
    for generation in range(4):
        log.write_bytes(bytes([65 + generation]) * 2048)
        assert rotate_log(log, max_bytes=1024, keep=2)
        assert log.stat().st_size == 0  # truncated in place: the server's open handle keeps working
    assert sorted(p.name for p in tmp_path.iterdir()) == ["server.log", "server.log.1", "server.log.2"]
    assert (tmp_path / "server.log.1").read_bytes()[:1] == b"D" and (tmp_path / "server.log.2").read_bytes()[
        :1
    ] == b"C"
    log.write_bytes(b"small")
    assert not rotate_log(log, max_bytes=1024, keep=2)


def test_settings_come_from_the_environment_with_a_clear_error():
    assert RetentionSettings.from_env({}) == RetentionSettings()
    assert RetentionSettings.from_env({"SMARTCART_KEEP_DELIVERIES": "3"}).deliveries == 3
    with pytest.raises(ConfigurationError, match="SMARTCART_KEEP_LOG_DAYS='two weeks'.*whole number"):
        RetentionSettings.from_env({"SMARTCART_KEEP_LOG_DAYS": "two weeks"})


def test_a_second_run_removes_nothing_more(home: Settings):
    for i in range(5):
        _folder(home.deliveries_dir / "catalog" / f"d{i}", 5 - i)
    first = apply_retention(home, RetentionSettings(deliveries=2), NOW, dbt_target=home.home / "none")
    second = apply_retention(home, RetentionSettings(deliveries=2), NOW, dbt_target=home.home / "none")
    assert first.counts() == {"deliveries": 3} and second.counts() == {}
    time.sleep(0)  # nothing else to wait for: the rules depend on the given clock only
