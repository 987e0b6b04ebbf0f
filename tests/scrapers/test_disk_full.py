"""Disk full: the crawl and the landing writers never leave a half-written file, a full disk
gives one clear message naming the folder, and the loader explains a missing or empty
crawl_stats.json. Filled for real: a tiny tmpfs is mounted for the test (needs root)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import uuid

import pytest

from scrapers.crawl import CrawlFailed, run_crawl_subprocess
from scrapers.demo_market import launch
from warehouse.domain.landing import CRAWL_STATS_FILE, CrawlLanding, LandingUnreadable
from warehouse.platform.safe_write import DiskFull, write_file_atomically

DAY = dt.date(2026, 11, 22)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 96 KiB tmpfs: a real filesystem that really fills up."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mountpoint)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): needs root")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_an_atomic_write_on_a_full_disk_names_the_folder_and_leaves_nothing(tiny_disk):
    folder = tiny_disk / "landing"
    write_file_atomically(folder / "small.json", b"{}")
    with pytest.raises(DiskFull, match=f"no space left in {folder}"):
        write_file_atomically(folder / "big.bin", b"x" * 200_000)
    assert _files(folder) == ["small.json"]  # no big.bin, no temporary left behind


@pytest.mark.integration
def test_a_crawl_onto_a_full_disk_fails_with_one_clear_message_and_no_half_files(tiny_disk):
    landing_dir = tiny_disk / "freshmart" / DAY.isoformat() / "r1"
    with launch(seed=42, products=400, stores=3, date=DAY) as market:
        with pytest.raises(CrawlFailed) as failed:
            run_crawl_subprocess(
                "freshmart", market.base_url, DAY, f"full-{uuid.uuid4().hex[:6]}", landing_dir
            )
    first_line = str(failed.value).splitlines()[0]
    assert f"no space left in {landing_dir}" in first_line, first_line
    assert "Traceback" not in first_line
    # Nothing under a name the loader reads is half-written: each landing file is whole or absent.
    leftovers = _files(landing_dir) if landing_dir.exists() else []
    assert not any(name.endswith(".part") for name in leftovers), leftovers
    assert "price_observations.tsv" not in leftovers  # the one that did not fit
    for name in ("stores.jsonl", "rejected_items.jsonl"):
        if name in leftovers:  # small enough to fit: complete, every line a whole record
            lines = (landing_dir / name).read_text().splitlines()
            assert all(json.loads(line) for line in lines)
    if CRAWL_STATS_FILE in leftovers:  # written once space was freed: it says failed, and why
        landing = CrawlLanding.from_dir(landing_dir)
        assert not landing.succeeded and "no space left" in landing.stats["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "crawl_stats.json is missing"),
        (b"", "is empty (0 bytes)"),
        (b'{"retailer": "freshmart", "scrape_da', "is not valid JSON"),
        (b'{"retailer": "freshmart"}', "lacks scrape_date, run_id"),
        (b"[1, 2]", "lacks retailer"),
    ],
)
def test_the_loader_explains_a_missing_or_broken_crawl_stats_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / CRAWL_STATS_FILE).write_bytes(content)
    with pytest.raises(LandingUnreadable, match=re.escape(message)) as raised:
        CrawlLanding.from_dir(tmp_path)
    assert "re-run the crawl" in str(raised.value)
