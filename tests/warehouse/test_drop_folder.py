"""The one drop-folder lifecycle: *.part ignored, settle time, one set of outcome folders, and a
file still being written (by a real process) is never loaded half."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import psycopg
import pytest

from warehouse.landing.crowd_reports import SUPPORTED, process_report_file
from warehouse.landing.drop_folder import (
    FileStillChanging,
    file_away,
    read_settled,
    settle_seconds,
    settled_files,
    unsettled_files,
    waiting_files,
)

HEADER = "report_id,contributor_id,product_name,store_name,price,currency,date"


def _age(path, seconds: float) -> None:
    """Pretend ``path`` was last written ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_part_hidden_and_foreign_files_are_ignored(tmp_path):
    for name in ("a.csv", "b.json", "c.csv.part", ".d.csv", "e.txt", "f.json.tmp", "g.CSV"):
        (tmp_path / name).write_text("x")
        _age(tmp_path / name, 60)
    (tmp_path / "loaded").mkdir()
    (tmp_path / "loaded" / "old.csv").write_text("x")
    assert [f.path.name for f in waiting_files(tmp_path, SUPPORTED)] == ["a.csv", "b.json", "g.CSV"]


def test_a_file_counts_only_once_it_has_settled(tmp_path):
    young, old = tmp_path / "young.csv", tmp_path / "old.csv"
    young.write_text("x")
    old.write_text("x")
    _age(old, 30)
    assert [f.path for f in settled_files(tmp_path, SUPPORTED, settle=10)] == [old]
    assert [f.path for f in unsettled_files(tmp_path, SUPPORTED, settle=10)] == [young]
    with pytest.raises(FileStillChanging, match="settle time 10 s"):
        read_settled(young, settle=10)
    assert read_settled(old, settle=10) == b"x"


def test_settle_time_is_configurable_and_checked():
    assert settle_seconds({}) == 10
    assert settle_seconds({"SMARTCART_DROP_SETTLE_SECONDS": "2.5"}) == 2.5
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(ValueError, match="SMARTCART_DROP_SETTLE_SECONDS"):
            settle_seconds({"SMARTCART_DROP_SETTLE_SECONDS": bad})


def test_handled_files_move_to_one_set_of_folders_and_keep_earlier_namesakes(tmp_path):
    for status in ("loaded", "skipped", "rejected", "rejected"):
        path = tmp_path / "reports.csv"
        path.write_text(status)
        moved = file_away(path, status, reasons=["bad row 3"], sha256="abc")
        assert moved.parent == tmp_path / status and not path.exists()
    rejected = sorted(p.name for p in (tmp_path / "rejected").iterdir())
    assert len(rejected) == 4 and sum(name.endswith(".reasons.json") for name in rejected) == 2
    with pytest.raises(ValueError, match="unknown drop-file outcome"):
        file_away(tmp_path / "x.csv", "processed")


WRITER = """
import sys, time
path, rows = sys.argv[1], sys.argv[2:]
with open(path, "w") as handle:
    for line in rows:
        handle.write(line + "\\n")
        handle.flush()
        time.sleep(0.5)
"""


@pytest.mark.integration
def test_a_file_being_written_is_not_loaded_half_then_loads_whole(warehouse_settings, tmp_path):
    """The issue's case: a reader saw 3 of 5 rows of a file still being written. Here a real
    process writes the file in place, a row every 0.5 s, while the loader polls the folder."""
    settle = 1.5
    prefix = uuid.uuid4().hex[:8]
    rows = [HEADER] + [f"{prefix}-{i},anon-7f3a9c21,Milk {i},Corner,2.5{i},AUD,2026-11-20" for i in range(5)]
    path = tmp_path / f"{prefix}.csv"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), *rows])
    outcomes = []
    with psycopg.connect(
        warehouse_settings.database_url("catalog", "smartcart_scraper"), autocommit=True
    ) as conn:
        while writer.poll() is None:
            for dropped in settled_files(tmp_path, SUPPORTED, settle):
                outcomes.append(process_report_file(conn, dropped.path, settle=settle))
            time.sleep(0.1)
        assert writer.returncode == 0
        assert outcomes == [], "a file still being written was read"
        assert path.exists() and [f.path for f in unsettled_files(tmp_path, SUPPORTED, settle)] == [path]
        deadline = time.monotonic() + 10
        while not outcomes and time.monotonic() < deadline:
            for dropped in settled_files(tmp_path, SUPPORTED, settle):
                outcomes.append(process_report_file(conn, dropped.path, settle=settle))
            time.sleep(0.1)
        [outcome] = outcomes
        assert (outcome.status, outcome.reports) == ("loaded", 5)
        assert conn.execute(
            "select count(*) from raw.crowd_price_reports where report_id like %s", (f"{prefix}-%",)
        ).fetchone() == (5,)
