"""Handing connections to libpq tools (psql, pg_dump, pg_restore) without a password in argv.

A password on a command line (`psql "postgresql://role:secret@..."`) is readable by every local
user in /proc/<pid>/cmdline and `ps`. Instead, the tools get a password-free connection string
and PGPASSFILE pointing at an owner-only file beside the role passwords (SMARTCART_HOME/secrets/
pgpass, mode 0600 in a 0700 folder), which libpq reads itself.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from warehouse.platform.config import Settings, libpq_parts


class ToolNotFound(RuntimeError):
    """A PostgreSQL client program is missing; the message says how to get it."""


@dataclass(frozen=True)
class Connection:
    """A password-free libpq URL plus the environment that supplies the password."""

    url: str
    env: dict[str, str]


def passfile_path(settings: Settings) -> Path:
    return settings.secrets_file.parent / "pgpass"


def _escape(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


def _write_owner_only(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _add_entry(settings: Settings, host: str, port: str, dbname: str, user: str, password: str) -> Path:
    """Add (or replace) one host:port:db:user line of the owner-only passfile."""
    path = passfile_path(settings)
    key = ":".join(_escape(part) for part in (host, port, dbname, user))
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if not line.startswith(key + ":")]
    _write_owner_only(path, "\n".join([*kept, f"{key}:{_escape(password)}"]) + "\n")
    return path


def password_free(url: str) -> str:
    """The same libpq URL without its password."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connection(settings: Settings, database: str, role: str | None = None) -> Connection:
    """Where `role` reaches `database`, for a libpq tool: URL without password, PGPASSFILE env."""
    return for_url(settings, settings.database_url(database, role))


def for_url(settings: Settings, url: str) -> Connection:
    """Any libpq URL for a libpq tool: its password moves into the owner-only passfile."""
    parts = libpq_parts(url)
    env = {}
    if parts["password"]:
        _add_entry(settings, parts["host"], parts["port"], parts["dbname"], parts["user"], parts["password"])
        env["PGPASSFILE"] = str(passfile_path(settings))
    # else: nothing to supply; the user's own ~/.pgpass or PGPASSFILE applies
    clean = password_free(url)
    if "application_name" not in clean:
        clean += ("&" if "?" in clean else "?") + urlencode({"application_name": "smartcart-cli"})
    return Connection(url=clean, env=env)


def client_program(name: str) -> str:
    """psql/pg_dump/pg_restore of the same major version as the embedded server when there is one."""
    from warehouse.platform.cluster import ClusterError, find_server_binaries

    try:
        candidate = find_server_binaries() / name
        if candidate.is_file():
            return str(candidate)
    except ClusterError:
        pass
    found = shutil.which(name)
    if not found:
        raise ToolNotFound(
            f"{name} was not found: install the PostgreSQL client tools (Debian/Ubuntu: "
            "`apt-get install postgresql-client`) or put their folder on PATH"
        )
    return found
