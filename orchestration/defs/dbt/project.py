"""The dbt project as Dagster sees it, and the pure helpers that feed dbt its settings."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from warehouse.platform.config import REPO_ROOT, Settings, libpq_parts

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
TRANSFORM_ROLE = "smartcart_transform"
TARGETS = {"catalog": "catalog", "behavior": "behavior"}  # dbt target -> database

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target="catalog")


def dbt_env(settings: Settings, role: str = TRANSFORM_ROLE) -> dict[str, str]:
    """The SMARTCART_DBT_<TARGET>_* variables profiles.yml reads, for both targets."""
    env = {}
    for target, database in TARGETS.items():
        for key, value in libpq_parts(settings.database_url(database, role)).items():
            env[f"SMARTCART_DBT_{target.upper()}_{key.upper()}"] = value
    return env


def placeholder_env() -> dict[str, str]:
    """Values that let `dbt parse` run with no database (parsing never connects)."""
    env = {}
    for target, database in TARGETS.items():
        parts = {
            "host": "127.0.0.1",
            "port": "5432",
            "user": "parse",
            "password": "parse",
            "dbname": f"smartcart_{database}",
        }
        for key, value in parts.items():
            env.setdefault(f"SMARTCART_DBT_{target.upper()}_{key.upper()}", value)
    return env


def partition_window_vars(start: dt.date, end_exclusive: dt.date) -> dict[str, str]:
    """The dbt vars for a Dagster day window [start, end_exclusive): ``min_date``/``max_date``, inclusive.

    One partition (a day) gives min_date == max_date; a single-run backfill of N days gives an
    N-day window, so the incremental models delete and rebuild exactly those N days.
    """
    if end_exclusive <= start:
        raise ValueError(f"empty day window: {start} .. {end_exclusive} (end is exclusive)")
    return {"min_date": start.isoformat(), "max_date": (end_exclusive - dt.timedelta(days=1)).isoformat()}


def dbt_build_args(window_vars: dict[str, str] | None, target: str = "catalog") -> list[str]:
    """`dbt build` arguments; with a day window the incremental models build only those days."""
    args = ["build", "--target", target]
    if window_vars:
        args += ["--vars", json.dumps(window_vars, sort_keys=True)]
    return args


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def _newest_project_file_mtime() -> float:
    """Newest change to what the manifest is parsed from (a stale manifest would hide new models)."""
    paths = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "snapshots", "tests"):
        paths += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def parse_manifest(force: bool = False) -> Path:
    """Write target/manifest.json if missing, stale or `force`: the code location loads the graph from it."""
    manifest = dbt_project.manifest_path
    if manifest.exists() and not force and manifest.stat().st_mtime >= _newest_project_file_mtime():
        return manifest
    env = {**placeholder_env(), **os.environ}
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            "catalog",
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=DBT_PROJECT_DIR,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return manifest
