"""A local HTTP server that stands in for supermarket websites, and a helper to run it.

The catalogue (``catalogue.py``) decides products, stores and prices by (seed, date); per-format
renderers (``freshmart.py``: a paged JSON API) turn it into responses; ``server.py`` routes HTTP.

    with launch(seed=42, products=200, stores=3) as market:
        crawl(market.base_url)
"""

from __future__ import annotations

import datetime as dt
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scrapers.demo_market.server import READY_PREFIX

__all__ = ["DemoMarketProcess", "DemoMarketStartError", "launch"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


class DemoMarketStartError(RuntimeError):
    """The demo market subprocess did not report ready."""


class DemoMarketProcess:
    """A running demo market subprocess; stop it with ``stop()`` or use it as a context manager."""

    def __init__(self, process: subprocess.Popen, base_url: str, stderr_path: Path):
        self.process = process
        self.base_url = base_url
        self._stderr_path = stderr_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stderr_text(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr_path.unlink(missing_ok=True)

    def __enter__(self) -> DemoMarketProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def launch(
    seed: int = 42,
    products: int = 200,
    stores: int = 3,
    date: dt.date | None = None,
    faults: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ready_timeout: float = 30.0,
    shrink: tuple[float, dt.date, int] | None = None,
) -> DemoMarketProcess:
    """Start ``python -m scrapers.demo_market`` and wait for its READY line."""
    cmd = [
        sys.executable, "-m", "scrapers.demo_market",
        "--host", host, "--port", str(port),
        "--seed", str(seed), "--products", str(products), "--stores", str(stores),
    ]  # fmt: skip
    if date is not None:
        cmd += ["--date", date.isoformat()]
    if faults:
        cmd += ["--faults", faults]
    if shrink is not None:  # (share of packs, first shrink day, days the shrink days spread over)
        share, first_day, days = shrink
        cmd += [
            "--shrink-share",
            str(share),
            "--shrink-from",
            first_day.isoformat(),
            "--shrink-days",
            str(days),
        ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH")) if p)
    # stderr goes to a file, not a pipe: nobody drains it while the market serves.
    fd, stderr_name = tempfile.mkstemp(prefix="demo_market_", suffix=".stderr")
    with os.fdopen(fd, "wb") as stderr_file:
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr_file, env=env, cwd=_REPO_ROOT)
    market = DemoMarketProcess(process, base_url="", stderr_path=Path(stderr_name))
    deadline = time.monotonic() + ready_timeout
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                stderr = market.stderr_text()
                market.stop()
                raise DemoMarketStartError(
                    f"demo market did not print {READY_PREFIX} within {ready_timeout:.0f}s "
                    f"(command: {' '.join(cmd)}); stderr:\n{stderr[-2000:]}"
                )
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:  # process exited before it was ready
                process.wait()
                stderr = market.stderr_text()
                market.stop()
                raise DemoMarketStartError(
                    f"demo market exited with code {process.returncode} before it was ready; "
                    f"stderr:\n{stderr[-2000:]}"
                )
            line += chunk
    text = line.decode().strip()
    if not text.startswith(READY_PREFIX + " "):
        market.stop()
        raise DemoMarketStartError(f"unexpected first line from demo market: {text!r}")
    market.base_url = text.split(" ", 1)[1]
    return market
