"""The one place that decides where SmartCart's data lives.

Everything that needs a database URL, a file path under SMARTCART_HOME or the
environment name asks this module. Secrets come only from the environment or
from the owner-only secrets file the embedded cluster writes; nothing here is
ever committed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from warehouse.platform.access.roles import Role
from warehouse.platform.cluster_state import read_cluster_state
from warehouse.platform.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[2]

# The four databases of the brief, by short name.
DATABASES: tuple[str, ...] = ("vault", "catalog", "behavior", "dagster")

# The superuser of the embedded cluster; used only for bootstrap (databases,
# roles, migrations, grants), never by pipelines.
ADMIN_ROLE = Role.ADMIN


def database_name(database: str) -> str:
    if database not in DATABASES:
        raise ConfigurationError(f"unknown database {database!r}; expected one of {', '.join(DATABASES)}")
    return f"smartcart_{database}"


def url_env_var(database: str) -> str:
    return f"SMARTCART_{database.upper()}_URL"


# The smallest number of distinct shoppers a sellable trends cell may count. One value, read
# here once, reaches dbt (var k_threshold), the GX trends suites and the privacy scan.
K_THRESHOLD_ENV = "SMARTCART_K_THRESHOLD"
# Which Dagster executor runs the steps: multiprocess here, k8s/celery/docker beyond one machine
# (orchestration/defs/executor.py knows the choices).
STEP_EXECUTOR_ENV = "SMARTCART_STEP_EXECUTOR"
DEFAULT_K_THRESHOLD = 10


def parse_k_threshold(raw: str | None) -> int:
    """The k-threshold from its setting (unset or blank: the default); a clear error otherwise."""
    if raw is None or not raw.strip():
        return DEFAULT_K_THRESHOLD
    try:
        k = int(raw.strip())
    except ValueError:
        raise ConfigurationError(
            f"{K_THRESHOLD_ENV}={raw!r} is not a whole number; set it to the minimum number of "
            f"distinct shoppers per trends cell (default {DEFAULT_K_THRESHOLD})"
        ) from None
    if k < 2:
        raise ConfigurationError(f"{K_THRESHOLD_ENV}={k} would publish single shoppers; set it to 2 or more")
    return k


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one process: read from the environment once, by `from_env`."""

    home: Path
    environment: str
    external_urls: dict[str, str] = field(default_factory=dict)
    k_threshold: int = DEFAULT_K_THRESHOLD
    step_executor: str = "multiprocess"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("SMARTCART_HOME") or REPO_ROOT / ".smartcart").expanduser().resolve()
        environment = env.get("SMARTCART_ENV", "ci" if env.get("CI") else "local")
        external = {db: env[url_env_var(db)] for db in DATABASES if env.get(url_env_var(db))}
        return cls(
            home=home,
            environment=environment,
            external_urls=external,
            k_threshold=parse_k_threshold(env.get(K_THRESHOLD_ENV)),
            step_executor=(env.get(STEP_EXECUTOR_ENV) or "multiprocess").strip().lower(),
        )

    def dbt_vars(self) -> dict[str, object]:
        """The dbt vars every build gets from the settings (a run adds its day window)."""
        return {"k_threshold": self.k_threshold}

    # --- paths under SMARTCART_HOME -------------------------------------------------
    @property
    def cluster_dir(self) -> Path:
        return self.home / "postgres"

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets" / "roles.json"

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def deliveries_dir(self) -> Path:
        return self.home / "deliveries"

    @property
    def outputs_dir(self) -> Path:
        return self.home / "outputs"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    # --- databases ------------------------------------------------------------------
    def is_embedded(self, database: str) -> bool:
        database_name(database)
        return database not in self.external_urls

    @property
    def uses_embedded_cluster(self) -> bool:
        return any(self.is_embedded(db) for db in DATABASES)

    def database_url(self, database: str, role: str | None = None) -> str:
        """libpq URL for `database`, connecting as `role` (default: the admin role).

        An external URL (SMARTCART_<DB>_URL) is used as given: on servers you run
        yourself, the URL's user is the role.
        """
        dbname = database_name(database)
        if not self.is_embedded(database):
            return self.external_urls[database]
        state = read_cluster_state(self)
        role = role or ADMIN_ROLE
        password = role_password(self, role)
        return (
            f"postgresql://{quote(role)}:{quote(password, safe='')}@127.0.0.1:{state.port}/{dbname}"
            "?sslmode=disable&connect_timeout=10"
        )


def role_password(settings: Settings, role: str) -> str:
    try:
        secrets = json.loads(settings.secrets_file.read_text())
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"no role passwords at {settings.secrets_file}: run `smartcart db start` first"
        ) from exc
    if role not in secrets:
        known = ", ".join(sorted(secrets))
        raise ConfigurationError(f"unknown role {role!r}; the embedded cluster has: {known}")
    return secrets[role]


def libpq_parts(url: str) -> dict[str, str]:
    """Split a libpq URL into host/port/user/password/dbname (for dbt's profile)."""
    parts = urlsplit(url)
    from urllib.parse import unquote

    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "dbname": parts.path.lstrip("/"),
    }
