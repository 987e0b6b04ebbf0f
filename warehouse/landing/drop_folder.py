"""The one drop-folder lifecycle shared by every drop folder (crowd reports, app events, ...).

A producer drops files into a folder; a sensor picks them up and a loader decides each file's fate.
The rules, the same for every folder:

- only files with the folder's suffixes count; hidden files and files being written under a
  temporary name (``*.part``, ``*.tmp``, ``*.partial``, ``*.crdownload``) are ignored, so the safe
  way to deliver is "write ``x.csv.part``, then rename to ``x.csv``";
- a file is read only once it has stopped changing for the settle time
  (``SMARTCART_DROP_SETTLE_SECONDS``, default 10 s): a producer that writes in place is not read
  half-way. ``read_settled`` checks again after reading, so a file that changed while it was read
  is left where it is for the next pass, never loaded half;
- a handled file moves to exactly one of ``loaded/``, ``rejected/`` (next to
  ``<file>.reasons.json``, which says why) or ``skipped/`` (same content seen before). Nothing is
  deleted and nothing stays in the drop folder without a verdict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from warehouse.platform.safe_write import write_file_atomically

__all__ = [
    "IGNORED_SUFFIXES",
    "OUTCOME_FOLDERS",
    "DroppedFile",
    "FileStillChanging",
    "file_away",
    "read_settled",
    "settle_seconds",
    "SENSOR_INTERVAL_SECONDS",
    "settled_files",
    "unsettled_files",
    "waiting_files",
]

IGNORED_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")
LOADED, REJECTED, SKIPPED = "loaded", "rejected", "skipped"
OUTCOME_FOLDERS = (LOADED, REJECTED, SKIPPED)
DEFAULT_SETTLE_SECONDS = 10.0
SETTLE_ENV = "SMARTCART_DROP_SETTLE_SECONDS"
# How often a drop folder's sensor looks (Dagster's minimum_interval_seconds): about the settle time,
# so a settled file waits at most one more look. A look is a directory listing.
SENSOR_INTERVAL_SECONDS = 15


class FileStillChanging(RuntimeError):
    """The file changed while (or just before) it was read: leave it for a later pass."""


def settle_seconds(env: Mapping[str, str] | None = None) -> float:
    """How long a file must stay unchanged before it is read (``SMARTCART_DROP_SETTLE_SECONDS``)."""
    env = os.environ if env is None else env
    raw = env.get(SETTLE_ENV, "").strip()
    if not raw:
        return DEFAULT_SETTLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{SETTLE_ENV}={raw!r} is not a number of seconds (e.g. 10)") from None
    if not value >= 0:  # also rejects nan
        raise ValueError(f"{SETTLE_ENV}={raw!r} must be zero or more seconds")
    return value


@dataclass(frozen=True)
class DroppedFile:
    """A file in the drop folder as last seen: its identity for run keys and change checks."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> DroppedFile:
        stat = path.stat()
        return cls(path, stat.st_size, stat.st_mtime_ns)

    @property
    def key(self) -> str:
        """Same name, size and modification time -> same key (one run per drop of a file)."""
        return f"{self.path.name}:{self.size}:{self.mtime_ns}"

    def age_seconds(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.mtime_ns / 1e9


def _counts(path: Path, suffixes: Iterable[str]) -> bool:
    name = path.name.lower()
    if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
        return False
    return name.endswith(tuple(s.lower() for s in suffixes))


def waiting_files(folder: Path, suffixes: Iterable[str]) -> list[DroppedFile]:
    """Every candidate file directly in ``folder`` (not in its outcome folders), oldest first."""
    if not folder.is_dir():
        return []
    suffixes = tuple(suffixes)
    files = []
    for path in folder.iterdir():
        if not _counts(path, suffixes):
            continue
        try:
            if path.is_file():
                files.append(DroppedFile.of(path))
        except FileNotFoundError:  # moved away by a concurrent run between listing and stat
            continue
    return sorted(files, key=lambda f: (f.mtime_ns, f.path.name))


def settled_files(
    folder: Path, suffixes: Iterable[str], settle: float | None = None, now: float | None = None
) -> list[DroppedFile]:
    """The waiting files that have not changed for ``settle`` seconds: ready to be read."""
    settle = settle_seconds() if settle is None else settle
    return [f for f in waiting_files(folder, suffixes) if f.age_seconds(now) >= settle]


def unsettled_files(
    folder: Path, suffixes: Iterable[str], settle: float | None = None, now: float | None = None
) -> list[DroppedFile]:
    """The waiting files still changing (or changed too recently): left for a later pass."""
    settle = settle_seconds() if settle is None else settle
    return [f for f in waiting_files(folder, suffixes) if f.age_seconds(now) < settle]


def check_settled(path: Path, settle: float | None = None, seen: DroppedFile | None = None) -> DroppedFile:
    """The file's current state; ``FileStillChanging`` if it is younger than the settle time or
    differs from ``seen`` (what a sensor or an earlier read saw)."""
    settle = settle_seconds() if settle is None else settle
    current = DroppedFile.of(path)
    if seen is not None and (current.size, current.mtime_ns) != (seen.size, seen.mtime_ns):
        raise FileStillChanging(
            f"{path} changed since it was seen ({seen.size} -> {current.size} bytes); "
            "it will be read once it has stopped changing"
        )
    if current.age_seconds() < settle:
        raise FileStillChanging(
            f"{path} changed {current.age_seconds():.1f} s ago (settle time {settle:g} s, "
            f"{SETTLE_ENV}); it will be read once it has stopped changing"
        )
    return current


def read_settled(path: Path, settle: float | None = None, max_bytes: int | None = None) -> bytes | None:
    """The whole content of a settled file; ``FileStillChanging`` if it changed before or while
    it was read. ``None`` (content not read) when the file is larger than ``max_bytes``."""
    before = check_settled(path, settle)
    if max_bytes is not None and before.size > max_bytes:
        return None
    content = path.read_bytes()
    check_settled(path, 0, seen=before)
    return content


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_away(
    path: Path,
    status: str,
    reasons: list[str] | None = None,
    sha256: str | None = None,
    root: Path | None = None,
) -> Path:
    """Move a handled file to ``<root>/<status>/`` (root: the file's folder) and return its new
    path. A rejected file gets ``<file>.reasons.json`` beside it. A same-named earlier file is
    kept: the newcomer gets a time-stamped name."""
    if status not in OUTCOME_FOLDERS:
        raise ValueError(f"unknown drop-file outcome {status!r}; expected one of {OUTCOME_FOLDERS}")
    folder = (root or path.parent) / status
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    if status == REJECTED:
        # The reasons first: a rejected file is never found without them.
        document = {"file": path.name, "sha256": sha256, "status": status, "reasons": list(reasons or [])}
        write_file_atomically(
            target.with_name(target.name + ".reasons.json"), (json.dumps(document, indent=2) + "\n").encode()
        )
    shutil.move(str(path), target)
    return target
