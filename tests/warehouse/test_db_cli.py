"""`smartcart db ...` through the real CLI process: psql without secrets in argv, url, status."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warehouse.platform import libpq
from warehouse.platform.config import Settings, role_password

pytestmark = pytest.mark.integration

SMARTCART = [sys.executable, "-m", "orchestration.cli"]


def _cli_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "SMARTCART_HOME": str(settings.home)}


def test_psql_gets_its_password_from_an_owner_only_passfile(warehouse_settings: Settings):
    password = role_password(warehouse_settings, "smartcart_analyst")
    process = subprocess.Popen(
        [*SMARTCART, "db", "psql", "--role", "smartcart_analyst", "--", "-At", "-c",
         "select current_user, pg_sleep(3)"],
        env=_cli_env(warehouse_settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    cmdline = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the CLI execs psql in place: same pid
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        if b"psql" in cmdline.split(b"\0")[0]:
            break
        time.sleep(0.05)
    environ = Path(f"/proc/{process.pid}/environ").read_bytes()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip().startswith("smartcart_analyst|")
    argv = cmdline.decode()
    assert b"psql" in cmdline.split(b"\0")[0] and "smartcart_analyst" in argv
    assert password not in argv and "password" not in argv.lower()
    assert password.encode() not in environ and b"PGPASSWORD" not in environ
    passfile = libpq.passfile_path(warehouse_settings)
    assert f"PGPASSFILE={passfile}".encode() in environ
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    assert stat.S_IMODE(passfile.parent.stat().st_mode) == 0o700


def test_db_url_leaves_the_password_out_and_says_how_to_connect(warehouse_settings: Settings):
    password = role_password(warehouse_settings, "smartcart_analyst")
    result = subprocess.run(
        [*SMARTCART, "db", "url", "--role", "smartcart_analyst"],
        env=_cli_env(warehouse_settings), capture_output=True, text=True, check=True,
    )  # fmt: skip
    url = result.stdout.strip()
    assert url.startswith("postgresql://smartcart_analyst@127.0.0.1:") and password not in url
    assert "PGPASSFILE=" in result.stderr and "smartcart db psql" in result.stderr
    # The documented way works: psql "$(smartcart db url)" with PGPASSFILE from the hint.
    passfile = str(libpq.passfile_path(warehouse_settings))
    psql = libpq.client_program("psql")
    check = subprocess.run(
        [psql, url, "-At", "-c", "select current_user"],
        env={**os.environ, "PGPASSFILE": passfile}, capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "smartcart_analyst"


def test_db_status_reports_size_and_migration_level(warehouse_settings: Settings):
    from warehouse.platform.migrate import migrations_for

    result = subprocess.run(
        [*SMARTCART, "db", "status"], env=_cli_env(warehouse_settings), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "running on 127.0.0.1:" in lines["embedded"]
    for database in ("vault", "catalog", "behavior"):
        assert f"migration {migrations_for(database)[-1].version}" in lines[database]
        assert " MB" in lines[database] or " kB" in lines[database]
    assert "no migrations" in lines["dagster"]
