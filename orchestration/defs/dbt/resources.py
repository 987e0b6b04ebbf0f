"""The dbt CLI resources: dagster-dbt's DbtCliResource, told where the warehouse is per invocation."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource

from orchestration.defs.dbt.project import dbt_env, dbt_executable, dbt_project
from warehouse.platform.config import Settings

_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _environment_for_spawn(extra: dict[str, str]) -> Iterator[None]:
    """Give a child process started inside the block `extra` in its environment, then put the
    parent's environment back (under a lock, for the in-process executor's threads).

    Why: DbtCliResource.cli copies os.environ into dbt's process and has no env parameter, and
    profiles.yml reads its connection with env_var(). Asset bodies never touch os.environ; this is
    the one scoped hand-over (docs/adr/0022-settings-resolver-read-once.md).
    """
    with _ENV_LOCK:
        saved = {key: os.environ.get(key) for key in extra}
        os.environ.update(extra)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class WarehouseDbtCliResource(DbtCliResource):
    """DbtCliResource whose invocations get the resolved Settings: the connection (profiles.yml's
    SMARTCART_DBT_* env vars) and the settings' dbt vars (k_threshold) merged under the run's own."""

    def build(
        self,
        settings: Settings,
        run_vars: dict[str, object] | None = None,
        *,
        context: dg.AssetExecutionContext,
        extra_args: Sequence[str] = (),
    ) -> DbtCliInvocation:
        from orchestration.defs.dbt.project import dbt_build_args

        args = dbt_build_args({**settings.dbt_vars(), **(run_vars or {})}, target=self.target or "catalog")
        with _environment_for_spawn(dbt_env(settings)):
            return self.cli([*args, *extra_args], context=context)


# The venv's own dbt, so the code location works without the venv on PATH.
dbt_resource = WarehouseDbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(dbt_project.profiles_dir),
    target="catalog",
    dbt_executable=dbt_executable(),
)
