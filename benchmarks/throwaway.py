"""A throwaway embedded warehouse for one benchmark run, shared by the benchmark scripts.

Its own ``SMARTCART_HOME`` (a temporary folder), a cluster started and bootstrapped in it, and on exit
the cluster stopped and the folder removed (``keep=True`` leaves both, and says where).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from warehouse.platform import cluster
from warehouse.platform.bootstrap import bootstrap
from warehouse.platform.config import Settings


@contextlib.contextmanager
def throwaway_warehouse(prefix: str = "smartcart-bench-", keep: bool = False) -> Iterator[Settings]:
    """Settings of a fresh, bootstrapped embedded cluster; this process and its children (dbt, crawls,
    exporters) see it through ``SMARTCART_HOME``."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    # mkdtemp makes the folder 0700; as root the cluster runs as `postgres`, which must enter it.
    os.chmod(home, 0o755)
    # A configured server (database URLs, a port) would take the benchmark's writes: use the throwaway one.
    for key in [k for k in os.environ if k.startswith("SMARTCART_") and k.endswith(("_URL", "_PG_PORT"))]:
        os.environ.pop(key)
    os.environ["SMARTCART_HOME"] = str(home)
    settings = Settings.from_env()
    try:
        bootstrap(settings)
        yield settings
    finally:
        if keep:
            print(f"cluster kept running at {home} (`SMARTCART_HOME={home} smartcart db stop` stops it)")
        else:
            cluster.stop(settings)
            shutil.rmtree(home, ignore_errors=True)
