"""Two `smartcart demo` at once on one SMARTCART_HOME: the second waits and says why."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.cli import _exclusive
from warehouse.platform.config import Settings


def test_second_demo_waits_for_the_first():
    home = Path(tempfile.mkdtemp(prefix="smartcart-lock-"))
    settings = Settings.from_env({"SMARTCART_HOME": str(home)})
    smartcart = str(Path(sys.executable).with_name("smartcart"))
    with _exclusive(settings, "demo"):
        second = subprocess.Popen(
            [smartcart, "demo"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "SMARTCART_HOME": str(home)},
        )
        try:
            first_line = second.stdout.readline()
            assert "another `smartcart demo` is running" in first_line and "waiting" in first_line
            assert second.poll() is None  # still waiting, not failed and not running the pipeline
        finally:
            second.kill()
            second.wait()
