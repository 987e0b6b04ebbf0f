"""Apply warehouse/platform/access/roles.yml: roles, CONNECT, schema and table privileges. Idempotent.

Revokes first what PUBLIC gets by default (CONNECT, TEMP), so a role reaches only the
databases and schemas the file names. Default privileges cover tables created later
by migrations (admin) and by dbt (smartcart_transform).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from warehouse.platform.config import ADMIN_ROLE, database_name

ROLES_FILE = Path(__file__).resolve().parent / "roles.yml"
LEVELS = ("read", "write", "build")
# Roles whose tables need default privileges for readers (they create tables).
TABLE_CREATORS = (ADMIN_ROLE, "smartcart_transform")
# Session limits roles.yml may set, and the variable that overrides each for every listed role.
SESSION_LIMITS = {
    "statement_timeout": "SMARTCART_PG_STATEMENT_TIMEOUT",
    "lock_timeout": "SMARTCART_PG_LOCK_TIMEOUT",
    "idle_in_transaction_session_timeout": "SMARTCART_PG_IDLE_IN_TRANSACTION_TIMEOUT",
}
_DURATION = re.compile(r"^\d+\s*(ms|s|min|h|d)?$")


@dataclass(frozen=True)
class AccessPolicy:
    roles: dict[str, str]
    databases: dict[str, dict]
    session_limits: dict[str, dict[str, str]] = field(default_factory=dict)
    member_of: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = ROLES_FILE) -> AccessPolicy:
        data = yaml.safe_load(path.read_text())
        policy = cls(
            roles=data["roles"],
            databases=data["databases"],
            session_limits=data.get("session_limits") or {},
            member_of=data.get("member_of") or {},
        )
        policy.validate()
        return policy

    def validate(self) -> None:
        for role, predefined in self.member_of.items():
            if role not in self.roles or not all(name.startswith("pg_") for name in predefined):
                raise ValueError(f"roles.yml: member_of.{role}: only predefined pg_* roles, got {predefined}")
        for role, limits in self.session_limits.items():
            if role not in self.roles:
                raise ValueError(f"roles.yml: session_limits names unknown role {role}")
            for name, value in limits.items():
                if name not in SESSION_LIMITS or not _DURATION.match(str(value)):
                    raise ValueError(f"roles.yml: session_limits.{role}: bad limit {name}: {value}")
        for database, spec in self.databases.items():
            database_name(database)
            for role in [*spec.get("connect", []), *spec.get("temporary", [])]:
                if role not in self.roles:
                    raise ValueError(f"roles.yml: {database}.connect names unknown role {role}")
            for schema, grants in (spec.get("schemas") or {}).items():
                for role, level in grants.items():
                    if role not in self.roles or level not in LEVELS:
                        raise ValueError(f"roles.yml: {database}.{schema}: bad grant {role}: {level}")

    def level(self, database: str, schema: str, role: str) -> str | None:
        return ((self.databases.get(database, {}).get("schemas") or {}).get(schema) or {}).get(role)


def session_limits(policy: AccessPolicy, env: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Every role's session limits: roles.yml, with SMARTCART_PG_*_TIMEOUT overriding listed roles."""
    env = os.environ if env is None else env
    resolved: dict[str, dict[str, str]] = {}
    for role in policy.roles:
        limits = {name: str(value) for name, value in policy.session_limits.get(role, {}).items()}
        if role in policy.session_limits:
            for name, variable in SESSION_LIMITS.items():
                if env.get(variable):
                    if not _DURATION.match(env[variable].strip()):
                        raise ValueError(
                            f"{variable}={env[variable]!r} is not a duration; write it like 30s or 10min"
                        )
                    limits[name] = env[variable].strip()
        resolved[role] = limits
    return resolved


def ensure_roles(
    conn: psycopg.Connection,
    policy: AccessPolicy,
    passwords: dict[str, str],
    env: Mapping[str, str] | None = None,
) -> None:
    """Create or update login roles with their passwords and session limits (cluster-wide)."""
    limits = session_limits(policy, env)
    for role in policy.roles:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL("{} role {} with login nosuperuser nocreatedb nocreaterole inherit password {}").format(
                sql.SQL(verb), sql.Identifier(role), sql.Literal(passwords[role])
            )
        )
        declared = set(policy.member_of.get(role, []))
        current = {
            name
            for (name,) in conn.execute(
                "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
                "join pg_roles r on r.oid = m.member where r.rolname = %s and g.rolname like 'pg\\_%%'",
                (role,),
            )
        }
        for predefined in sorted(declared - current):
            conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(predefined), sql.Identifier(role)))
        for predefined in sorted(current - declared):
            conn.execute(
                sql.SQL("revoke {} from {}").format(sql.Identifier(predefined), sql.Identifier(role))
            )
        for name in SESSION_LIMITS:
            value = limits[role].get(name)
            if value:
                statement = sql.SQL("alter role {} set {} = {}").format(
                    sql.Identifier(role), sql.Identifier(name), sql.Literal(value)
                )
            else:
                statement = sql.SQL("alter role {} reset {}").format(
                    sql.Identifier(role), sql.Identifier(name)
                )
            conn.execute(statement)


def ensure_database(conn: psycopg.Connection, database: str, policy: AccessPolicy) -> None:
    """Create the database if missing (autocommit connection to the maintenance db)."""
    name = database_name(database)
    if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
        owner = policy.databases.get(database, {}).get("owner", ADMIN_ROLE)
        conn.execute(
            sql.SQL("create database {} owner {}").format(sql.Identifier(name), sql.Identifier(owner))
        )


def apply_database_grants(conn: psycopg.Connection, database: str, policy: AccessPolicy) -> None:
    """Grant/revoke inside one database (conn connected to it as admin)."""
    spec = policy.databases.get(database, {})
    dbname = sql.Identifier(database_name(database))
    conn.execute(sql.SQL("revoke all on database {} from public").format(dbname))
    conn.execute("revoke all on schema public from public")
    for role in policy.roles:
        ident = sql.Identifier(role)
        if role in spec.get("connect", []):
            conn.execute(sql.SQL("grant connect on database {} to {}").format(dbname, ident))
            temporary = sql.SQL("grant" if role in spec.get("temporary", []) else "revoke")
            conn.execute(
                sql.SQL("{} temporary on database {} {} {}").format(
                    temporary, dbname, sql.SQL("to" if role in spec.get("temporary", []) else "from"), ident
                )
            )
        elif role != spec.get("owner"):
            conn.execute(sql.SQL("revoke all on database {} from {}").format(dbname, ident))

    for schema, grants in (spec.get("schemas") or {}).items():
        schema_ident = sql.Identifier(schema)
        for role in policy.roles:
            ident = sql.Identifier(role)
            level = grants.get(role)
            # Start from nothing, so removing a grant from roles.yml removes it here.
            conn.execute(sql.SQL("revoke all on schema {} from {}").format(schema_ident, ident))
            if level != "build":  # never strip a builder's rights on the relations it owns
                conn.execute(
                    sql.SQL("revoke all on all tables in schema {} from {}").format(schema_ident, ident)
                )
            for creator in TABLE_CREATORS:
                if creator == role:
                    continue
                conn.execute(
                    sql.SQL(
                        "alter default privileges for role {} in schema {} revoke all on tables from {}"
                    ).format(sql.Identifier(creator), schema_ident, ident)
                )
            if level is None:
                continue
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema_ident, ident))
            if level == "build":
                conn.execute(sql.SQL("grant create on schema {} to {}").format(schema_ident, ident))
                continue
            privileges = "select" if level == "read" else "select, insert, update, delete, truncate"
            conn.execute(
                sql.SQL("grant {} on all tables in schema {} to {}").format(
                    sql.SQL(privileges), schema_ident, ident
                )
            )
            if level == "write":
                conn.execute(
                    sql.SQL("grant usage, select on all sequences in schema {} to {}").format(
                        schema_ident, ident
                    )
                )
            for creator in TABLE_CREATORS:
                if creator == role:
                    continue
                conn.execute(
                    sql.SQL(
                        "alter default privileges for role {} in schema {} grant {} on tables to {}"
                    ).format(sql.Identifier(creator), schema_ident, sql.SQL(privileges), ident)
                )
