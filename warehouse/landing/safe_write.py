"""Files that are either complete or absent: write to a temporary name, fsync, rename.

Every landing file (crawl landings, reasons files, stats) is written through here, so a crash or
a full disk never leaves a half-written file under its final name, and a full disk surfaces as
one ``DiskFull`` error that names the folder and says what to do, instead of a traceback and a
0-byte file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["DiskFull", "atomic_output", "disk_full_error", "write_file_atomically"]

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


class DiskFull(OSError):
    """No space (or quota) left in a folder: the message names it and what to do."""


def disk_full_error(folder: Path, exc: OSError) -> DiskFull:
    """A ``DiskFull`` naming ``folder`` and how much space is left there."""
    try:
        free = shutil.disk_usage(folder).free
        left = f"{free / 1e6:.1f} MB free"
    except OSError:
        left = "free space unknown"
    return DiskFull(
        exc.errno,
        f"no space left in {folder} ({left}): free space there or point the landing elsewhere "
        "(SMARTCART_HOME), then re-run; nothing was written under its final name",
    )


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; on success fsync it and rename it to
    ``path``; on any error remove it (``path`` is left as it was). ENOSPC/EDQUOT become
    ``DiskFull``."""
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise disk_full_error(folder, exc) from None
        raise
    temporary_path = Path(temporary)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary_path, path)
    except BaseException as exc:
        temporary_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            raise disk_full_error(folder, exc) from None
        raise
    _fsync_dir(folder)


def write_file_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` all or nothing (see ``atomic_output``)."""
    with atomic_output(path, "wb") as handle:
        handle.write(content)
