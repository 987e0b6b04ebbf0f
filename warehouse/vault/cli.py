"""`smartcart users add|verify|consent|erase|list`: the vault from the command line.

Passwords are read from stdin (`--password-stdin`), from SMARTCART_USER_PASSWORD, or
prompted; never from an argument (it would show in `ps` and shell history).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

import psycopg

from warehouse.platform.config import Settings
from warehouse.vault.api import CONSENT_TYPES, Vault, VaultError
from warehouse.vault.erasure import INGEST_ROLE, process_erasures


def _password(args: argparse.Namespace, confirm: bool) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("SMARTCART_USER_PASSWORD"):
        return os.environ["SMARTCART_USER_PASSWORD"]
    password = getpass.getpass("password: ")
    if confirm and getpass.getpass("again: ") != password:
        raise VaultError("the passwords differ")
    return password


def _consents(consents: dict[str, bool]) -> str:
    return " ".join(f"{t}={'yes' if consents.get(t) else 'no'}" for t in CONSENT_TYPES)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        with Vault.open(settings) as vault:
            return _dispatch(args, vault, settings)
    except VaultError as exc:
        print(f"smartcart users: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, vault: Vault, settings: Settings) -> int:
    if args.action == "add":
        user = vault.add_user(
            args.username,
            args.email,
            _password(args, confirm=True),
            trend_sharing=args.trend_sharing,
            marketing=args.marketing,
        )
        print(f"added {user.username} (app user id {user.app_user_id}); {_consents(user.consents)}")
        return 0
    if args.action == "verify":
        ok = vault.verify(args.username, _password(args, confirm=False))
        print("password OK" if ok else "password does NOT match (or no such user)")
        return 0 if ok else 1
    if args.action == "consent":
        user = vault.set_consent(args.username, args.consent, args.decision == "grant")
        print(f"{user.username}: {_consents(user.consents)}")
        return 0
    if args.action == "erase":
        request_id = vault.request_erasure(args.username)
        print(f"erasure request {request_id} recorded")
        try:
            with psycopg.connect(settings.database_url("behavior", INGEST_ROLE)) as behavior:
                results = process_erasures(vault, behavior)
        except psycopg.OperationalError as exc:
            print(
                f"the behaviour database is unreachable ({exc}); the request stays pending and the "
                "next ingestion run processes it",
                file=sys.stderr,
            )
            return 0
        for result in results:
            print(
                f"erased user {result.user_id}: {result.behavior_rows_deleted} behaviour rows deleted; "
                "the next trends build holds none of their rows"
            )
        return 0
    if args.action == "list":
        users = vault.list_users(include_erased=args.all)
        for user in users:
            state = f"erased {user.erased_at:%Y-%m-%d}" if user.erased_at else _consents(user.consents)
            print(f"{user.user_id:6d}  {user.username:24s} {user.email:32s} {user.app_user_id}  {state}")
        print(f"{len(users)} users")
        return 0
    raise AssertionError(args.action)


def add_parser(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="the vault: add, verify, consent, erase, list users")
    actions = users.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="register a user (argon2id password hash)")
    add.add_argument("username")
    add.add_argument("email")
    add.add_argument("--trend-sharing", action="store_true", help="consent to anonymous trend sharing")
    add.add_argument("--marketing", action="store_true", help="consent to marketing")
    add.add_argument("--password-stdin", action="store_true")

    verify = actions.add_parser("verify", help="check a password (rehashes when parameters changed)")
    verify.add_argument("username", help="username or email")
    verify.add_argument("--password-stdin", action="store_true")

    consent = actions.add_parser("consent", help="grant or revoke a consent (history kept)")
    consent.add_argument("username")
    consent.add_argument("consent", choices=CONSENT_TYPES)
    consent.add_argument("decision", choices=["grant", "revoke"])

    erase = actions.add_parser("erase", help="erase a user: behaviour rows deleted, PII scrubbed")
    erase.add_argument("username", help="username, email or app user id")

    listing = actions.add_parser("list", help="list users (audit-logged)")
    listing.add_argument("--all", action="store_true", help="include erased users")
    users.set_defaults(func=run)
