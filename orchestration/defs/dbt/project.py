"""The dbt project as Dagster sees it, and the pure helpers that feed dbt its settings."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from warehouse.platform.access.roles import Role
from warehouse.platform.config import REPO_ROOT, Settings, libpq_parts

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
TRANSFORM_ROLE = Role.TRANSFORM
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


def dbt_build_args(dbt_vars: dict[str, object] | None, target: str = "catalog") -> list[str]:
    """`dbt build` arguments with `dbt_vars` (the settings' k_threshold, a run's day window: with
    one the incremental models build only those days)."""
    args = ["build", "--target", target]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars, sort_keys=True)]
    return args


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


@contextlib.contextmanager
def placeholder_env_for_parse():
    """Fill the profile's env vars that are unset while dbt parses (parsing never connects), then
    put the environment back: nothing else in the process sees the placeholders."""
    missing = {key: value for key, value in placeholder_env().items() if key not in os.environ}
    saved_path = os.environ.get("PATH")
    os.environ.update(missing)
    # dagster-dbt's preparer runs `dbt` from PATH: the venv's own, even when the venv is not active.
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), saved_path]))
    try:
        yield
    finally:
        for key in missing:
            os.environ.pop(key, None)
        if saved_path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved_path


def prepare_manifest() -> Path:
    """Write target/manifest.json with dagster-dbt's own preparer (`dbt deps` if needed, `dbt parse`):
    what `make install` and an image build run, so the code location never parses at import."""
    with placeholder_env_for_parse():
        dbt_project.preparer.prepare(dbt_project)
    return dbt_project.manifest_path


def prepare_if_dev() -> Path:
    """Under `dagster dev` (`smartcart ui`) re-parse so edited models show up; elsewhere use the
    manifest made at install time. Says what to run when it is missing."""
    with placeholder_env_for_parse():
        dbt_project.prepare_if_dev()
    if not dbt_project.manifest_path.exists():
        raise FileNotFoundError(
            f"no dbt manifest at {dbt_project.manifest_path}: run `make install` "
            "(or `python -m orchestration.defs.dbt.project`) to prepare it"
        )
    return dbt_project.manifest_path


if __name__ == "__main__":
    print(prepare_manifest())
