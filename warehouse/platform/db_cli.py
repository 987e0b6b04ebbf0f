"""`smartcart db ...`: start, stop, status, url, psql, backup, restore.

Registered by orchestration/cli.py with one line (``add_parser(sub)``); everything else is here.
"""

from __future__ import annotations

import argparse
import os
import sys

import psycopg

from warehouse.platform.config import DATABASES, Settings, database_name


def _print(message: str = "") -> None:
    print(message, flush=True)


def _start(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.platform.bootstrap import bootstrap

    report = bootstrap(settings)
    where = f"127.0.0.1:{report.port}" if report.port else "external servers"
    applied = {db: v for db, v in report.migrations_applied.items() if v}
    _print(
        f"SmartCart databases ready on {where} (home {settings.home}); migrations applied now: {applied or 'none'}"
    )
    return 0


def _stop(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.platform import cluster

    _print("embedded cluster stopped" if cluster.stop(settings) else "embedded cluster was not running")
    return 0


def database_status(settings: Settings, database: str) -> dict:
    """Size on disk and migration level of one database (None values when it cannot be reached)."""
    from warehouse.platform.backup import applied_migrations
    from warehouse.platform.migrate import migrations_for

    known = [m.version for m in migrations_for(database)]
    status = {"database": database, "bytes": None, "migration_level": None, "pending": None, "error": None}
    try:
        with psycopg.connect(settings.database_url(database), connect_timeout=5) as conn:
            status["bytes"] = conn.execute("select pg_database_size(current_database())").fetchone()[0]
            applied = applied_migrations(conn)
    except (psycopg.Error, RuntimeError) as exc:
        status["error"] = str(exc).strip().splitlines()[0]
        return status
    status["migration_level"] = applied[-1] if applied else None
    status["pending"] = sorted(set(known) - set(applied))
    return status


def _size(value: int | None) -> str:
    if value is None:
        return "?"
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.platform import cluster

    running = True
    if settings.uses_embedded_cluster:
        running = cluster.is_running(settings)
        port = cluster.read_cluster_state(settings).port if running else None
        where = f"running on 127.0.0.1:{port}" if running else "stopped"
        _print(f"embedded cluster: {where} ({settings.cluster_dir})")
    for database in DATABASES:
        kind = (
            "embedded" if settings.is_embedded(database) else f"external (SMARTCART_{database.upper()}_URL)"
        )
        if settings.is_embedded(database) and not running:
            _print(f"{database:9s} {kind}")
            continue
        info = database_status(settings, database)
        if info["error"]:
            _print(f"{database:9s} {kind}  unreachable: {info['error']}")
            continue
        level = info["migration_level"] or "no migrations"
        pending = f", {len(info['pending'])} pending: {' '.join(info['pending'])}" if info["pending"] else ""
        _print(f"{database:9s} {kind}  {_size(info['bytes']):>9s}  migration {level}{pending}")
    return 0 if running else 3


def _url(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.platform import libpq

    if args.with_password:
        print(
            "smartcart: this URL carries the password; do not put it on a command line (ps shows argv)",
            file=sys.stderr,
        )
        _print(settings.database_url(args.database, args.role))
        return 0
    target = libpq.connection(settings, args.database, args.role)
    _print(target.url)
    if target.env.get("PGPASSFILE"):
        print(
            f"smartcart: the password is not in this URL; libpq tools read it from PGPASSFILE={target.env['PGPASSFILE']} "
            f'(owner-only). Use: PGPASSFILE={target.env["PGPASSFILE"]} psql "$(smartcart db url ...)", '
            "or simply: smartcart db psql --role ROLE --database DB",
            file=sys.stderr,
        )
    return 0


def psql_invocation(
    settings: Settings, database: str, role: str | None, extra: list[str]
) -> tuple[list[str], dict]:
    """argv and environment for psql: the password reaches it through PGPASSFILE, never argv."""
    from warehouse.platform import libpq

    target = libpq.connection(settings, database, role)
    argv = [libpq.client_program("psql"), target.url, *extra]
    return argv, {**os.environ, **target.env}


def _psql(args: argparse.Namespace, settings: Settings) -> int:
    extra = args.psql_args[1:] if args.psql_args[:1] == ["--"] else args.psql_args
    argv, env = psql_invocation(settings, args.database, args.role, extra)
    sys.stdout.flush()
    os.execve(argv[0], argv, env)  # replaces this process: psql owns the terminal and signals
    return 0  # not reached


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.platform import backup

    result = backup.backup(settings, backup.selected_databases(args.database), to=args.to, keep=args.keep)
    for item in result.databases.values():
        _print(
            f"{database_name(item.database):20s} {_size(item.bytes):>9s}  migration {item.migration_level or '-'}"
            f"  {item.duration_seconds:.1f}s  sha256 {item.sha256[:12]}"
        )
    _print(f"backup written to {result.directory} ({_size(result.total_bytes)})")
    if result.removed:
        _print(f"retention: removed {len(result.removed)} older backup(s): {', '.join(result.removed)}")
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.platform import backup

    for item in backup.restore(settings, args.archive, to_url=args.to, force=args.force):
        _print(
            f"restored {item.database} into {item.target} (migration {item.migration_level or '-'}, {item.duration_seconds:.1f}s)"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    from warehouse.platform.backup import BackupError
    from warehouse.platform.libpq import ToolNotFound

    try:
        return args.db_func(args, Settings.from_env())
    except (BackupError, ToolNotFound) as exc:
        print(f"smartcart: {exc}", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the PostgreSQL databases: cluster, connections, backups")
    actions = db.add_subparsers(dest="action", required=True)
    db.set_defaults(func=_run)

    actions.add_parser("start", help="create/start the embedded cluster, migrate, apply roles").set_defaults(
        db_func=_start
    )
    actions.add_parser("stop", help="stop the embedded cluster").set_defaults(db_func=_stop)
    actions.add_parser(
        "status", help="cluster state, disk use and migration level per database"
    ).set_defaults(db_func=_status)

    def connection_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--role", default=None, help="role to connect as (default: the admin role)")
        parser.add_argument("--database", default="catalog", choices=list(DATABASES))

    url = actions.add_parser("url", help="a libpq URL without the password (it is read from PGPASSFILE)")
    connection_options(url)
    url.add_argument(
        "--with-password", action="store_true", help="include the password (for tools without PGPASSFILE)"
    )
    url.set_defaults(db_func=_url)

    psql = actions.add_parser("psql", help="open psql as a role; the password stays out of argv")
    connection_options(psql)
    psql.add_argument(
        "psql_args", nargs=argparse.REMAINDER, help="passed to psql after --, e.g. -- -c 'select 1'"
    )
    psql.set_defaults(db_func=_psql)

    backup = actions.add_parser(
        "backup", help="pg_dump -Fc each database as smartcart_backup, with a manifest"
    )
    backup.add_argument("--database", default="all", choices=[*DATABASES, "all"])
    backup.add_argument(
        "--to",
        default=None,
        help="folder for backup sets (default: SMARTCART_BACKUP_DIR or SMARTCART_HOME/backups)",
    )
    backup.add_argument(
        "--keep", type=int, default=None, help="sets to keep (default: SMARTCART_BACKUP_KEEP or 7)"
    )
    backup.set_defaults(db_func=_backup)

    restore = actions.add_parser(
        "restore", help="restore a backup set (or one .dump of it) into empty databases"
    )
    restore.add_argument("archive", help="a backup set folder, or one <database>.dump inside it")
    restore.add_argument(
        "--to", default=None, help="target libpq URL (one database only; default: the configured database)"
    )
    restore.add_argument("--force", action="store_true", help="replace a target that already holds rows")
    restore.set_defaults(db_func=_restore)
