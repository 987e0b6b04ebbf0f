"""The embedded PostgreSQL cluster: find the server binaries, init, start, stop.

With no SMARTCART_<DB>_URL set, SmartCart runs its own cluster under
SMARTCART_HOME/postgres, listening on 127.0.0.1 only, with its Unix socket in a
private directory. PostgreSQL refuses to run as root, so when we are root the
server runs as the unprivileged `postgres` OS user (SMARTCART_PG_OS_USER).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import grp
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from warehouse.platform.cluster_state import ClusterState, read_cluster_state
from warehouse.platform.cluster_state import state_file as _state_file
from warehouse.platform.config import ADMIN_ROLE, ConfigurationError, Settings
from warehouse.platform.server_settings import server_settings, write_server_settings

DEFAULT_PORT = 54329  # a high port unlikely to clash with a system PostgreSQL on 5432


class ClusterError(RuntimeError):
    """The embedded cluster could not be created or started; the message says why."""


SERVER_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def find_server_binaries(env: dict[str, str] | None = None, search_glob: str = SERVER_BIN_GLOB) -> Path:
    """Folder holding initdb/pg_ctl/postgres: SMARTCART_PG_BIN, PATH, or /usr/lib/postgresql/*/bin."""
    env = os.environ if env is None else env
    candidates: list[Path] = []
    if env.get("SMARTCART_PG_BIN"):
        candidates.append(Path(env["SMARTCART_PG_BIN"]))
    on_path = shutil.which("pg_ctl", path=env.get("PATH"))
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)

    def version_key(path: str) -> tuple[int, ...]:
        part = Path(path).parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit()) or (0,)

    candidates += [Path(p) for p in sorted(glob.glob(search_glob), key=version_key, reverse=True)]
    for folder in candidates:
        if all((folder / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under "
        "/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`), "
        "or set SMARTCART_PG_BIN to the folder that holds them, or point SMARTCART_VAULT_URL, "
        "SMARTCART_CATALOG_URL, SMARTCART_BEHAVIOR_URL and SMARTCART_DAGSTER_URL at existing servers."
    )


def _server_user() -> str | None:
    """OS user to run the server as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    user = os.environ.get("SMARTCART_PG_OS_USER", "postgres")
    try:
        pwd.getpwnam(user)
    except KeyError as exc:
        raise ClusterError(
            f"running as root, and PostgreSQL refuses to run as root; the OS user {user!r} does not exist. "
            "Create it (`useradd --system postgres`) or set SMARTCART_PG_OS_USER to an unprivileged user."
        ) from exc
    return user


def _as_server_user(cmd: list[str]) -> list[str]:
    user = _server_user()
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def _give_to_server_user(path: Path) -> None:
    user = _server_user()
    if user:
        record = pwd.getpwnam(user)
        os.chown(path, record.pw_uid, record.pw_gid)


def _check_traversable(path: Path) -> None:
    """The server user must be able to enter SMARTCART_HOME and every folder above it.

    As root, initdb and the server run as the postgres OS user; a home inside a 0700 root-only
    folder (`mktemp -d`, /root) fails deep inside initdb with "Permission denied". Say so first.
    """
    user = _server_user()
    if not user:
        return
    record = pwd.getpwnam(user)
    groups = {record.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)}
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            break
        info = os.stat(folder)
        if info.st_uid == record.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            raise ClusterError(
                f"running as root, the PostgreSQL server runs as the OS user {user!r}, which cannot enter "
                f"{folder} (owner uid {info.st_uid}, mode {oct(stat.S_IMODE(info.st_mode))}), so initdb would "
                f"fail. Either let it through (`chmod o+x {folder}`), or set SMARTCART_HOME to a folder "
                "under a world-traversable path such as /srv/smartcart or /tmp, or run as an unprivileged user."
            )


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_owner_only(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def ensure_role_passwords(settings: Settings, roles: list[str]) -> dict[str, str]:
    """Generate a password for every role that lacks one; keep them in an owner-only file."""
    try:
        passwords = json.loads(settings.secrets_file.read_text())
    except FileNotFoundError:
        passwords = {}
    missing = [role for role in [ADMIN_ROLE, *roles] if role not in passwords]
    if missing:
        for role in missing:
            passwords[role] = secrets.token_urlsafe(24)
        _write_owner_only(settings.secrets_file, json.dumps(passwords, indent=2, sort_keys=True))
    return passwords


@contextlib.contextmanager
def cluster_lock(settings: Settings) -> Iterator[None]:
    """Serialise init/start/stop so two commands at once cannot corrupt the cluster."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "cluster.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_running(settings: Settings) -> bool:
    try:
        state = read_cluster_state(settings)
    except ConfigurationError:
        return False
    result = subprocess.run(
        _as_server_user([str(Path(state.bin_dir) / "pg_ctl"), "status", "-D", state.data_dir]),
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def _choose_port(settings: Settings, previous: int | None) -> int:
    requested = os.environ.get("SMARTCART_PG_PORT")
    if requested:
        port = int(requested)
        if not port_is_free(port):
            raise ClusterError(
                f"port {port} (SMARTCART_PG_PORT) is taken on 127.0.0.1; set SMARTCART_PG_PORT to a free port "
                "or unset it to let SmartCart pick one"
            )
        return port
    for port in (previous, DEFAULT_PORT):
        if port and port_is_free(port):
            return port
    return free_port()


def start(settings: Settings, roles: list[str]) -> ClusterState:
    """Create the cluster on first use, then start it if it is not running. Idempotent."""
    with cluster_lock(settings):
        bin_dir = find_server_binaries()
        _check_traversable(settings.home)
        data_dir = settings.cluster_dir / "data"
        socket_dir = settings.cluster_dir / "socket"
        log_file = settings.cluster_dir / "server.log"
        passwords = ensure_role_passwords(settings, roles)
        settings.cluster_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(settings.cluster_dir, 0o755)
        socket_dir.mkdir(exist_ok=True)
        os.chmod(socket_dir, 0o700)  # private socket directory
        _give_to_server_user(socket_dir)

        if not (data_dir / "PG_VERSION").exists():
            _initdb(bin_dir, data_dir, passwords[ADMIN_ROLE])

        try:
            previous = read_cluster_state(settings).port
        except ConfigurationError:
            previous = None

        if is_running(settings):
            return read_cluster_state(settings)

        port = _choose_port(settings, previous)
        conf = write_server_settings(data_dir, server_settings())
        _give_to_server_user(conf)
        log_file.touch()
        _give_to_server_user(log_file)
        state = ClusterState(
            port=port,
            data_dir=str(data_dir),
            socket_dir=str(socket_dir),
            bin_dir=str(bin_dir),
            log_file=str(log_file),
        )
        options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1"
        result = subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(data_dir),
                    "-l",
                    str(log_file),
                    "-o",
                    options,
                ]
            ),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = log_file.read_text()[-2000:] if log_file.exists() else ""
            raise ClusterError(f"pg_ctl start failed (port {port}): {result.stderr.strip()}\n{tail}")
        _state_file(settings).write_text(json.dumps(asdict(state), indent=2))
        _wait_ready(port)
        return state


def _initdb(bin_dir: Path, data_dir: Path, admin_password: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    _give_to_server_user(data_dir)
    pwfile = data_dir.parent / "initdb.pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(admin_password + "\n")
    _give_to_server_user(pwfile)
    try:
        result = subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    ADMIN_ROLE,
                    f"--pwfile={pwfile}",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            capture_output=True,
            text=True,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise ClusterError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ClusterError(f"PostgreSQL did not accept connections on 127.0.0.1:{port} within {timeout:.0f}s")


def stop(settings: Settings) -> bool:
    """Stop the cluster if it runs. Returns whether it was running."""
    with cluster_lock(settings):
        if not is_running(settings):
            return False
        state = read_cluster_state(settings)
        subprocess.run(
            _as_server_user(
                [str(Path(state.bin_dir) / "pg_ctl"), "stop", "-D", state.data_dir, "-m", "fast", "-w"]
            ),
            check=True,
            capture_output=True,
        )
        return True
