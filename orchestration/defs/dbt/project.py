"""The dbt project as Dagster sees it, and the pure helpers that feed dbt its settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from warehouse.config import REPO_ROOT, Settings, libpq_parts

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


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def parse_manifest(force: bool = False) -> Path:
    """Write target/manifest.json if missing (or `force`): the code location loads the graph from it."""
    manifest = dbt_project.manifest_path
    if manifest.exists() and not force:
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
