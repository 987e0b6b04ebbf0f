"""The vault's Python API: users, anonymous ids, consents, erasure requests, audit log.

Only this module talks to smartcart_vault, always as role smartcart_auth. Every read of a
user or of the id mapping writes an audit_log row (who, what, for which purpose). The
anonymous id is a random uuid the vault generates: nothing outside the vault can derive it
from an app user id, a username or an email.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from argon2 import PasswordHasher
from psycopg.types.json import Jsonb

from warehouse.platform.config import Settings
from warehouse.vault.passwords import default_hasher, hash_password, needs_rehash, verify_password

AUTH_ROLE = "smartcart_auth"
CONSENT_TYPES = ("terms", "trend_sharing", "marketing")


class VaultError(RuntimeError):
    """A vault operation could not be done; the message says why and what to do."""


class UnknownUser(VaultError):
    pass


@dataclass(frozen=True)
class VaultUser:
    user_id: int
    username: str
    email: str
    app_user_id: str
    created_at: datetime
    erased_at: datetime | None
    consents: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class NewUser:
    username: str
    email: str
    trend_sharing: bool = False
    marketing: bool = False
    terms: bool = True


@dataclass(frozen=True)
class Pseudonym:
    """What ingestion learns about one app user id: the anonymous id, or that the user is erased."""

    anonymous_user_id: uuid.UUID | None
    erased: bool


@dataclass(frozen=True)
class PendingErasure:
    erasure_request_id: int
    user_id: int
    anonymous_user_id: uuid.UUID | None


_USER_COLUMNS = "u.user_id, u.username, u.email, u.app_user_id, u.created_at, u.erased_at"


class Vault:
    """Operations on an open smartcart_vault connection (as smartcart_auth)."""

    def __init__(self, conn: psycopg.Connection, hasher: PasswordHasher | None = None):
        self.conn = conn
        self.hasher = hasher or default_hasher()
        self._decoy: str | None = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, settings: Settings | None = None, hasher: PasswordHasher | None = None) -> Iterator[Vault]:
        settings = settings or Settings.from_env()
        with psycopg.connect(settings.database_url("vault", AUTH_ROLE)) as conn:
            yield cls(conn, hasher)

    # --- audit -------------------------------------------------------------------------
    def _audit(self, action: str, subject_user_id: int | None = None, **detail) -> None:
        self.conn.execute(
            "insert into vault.audit_log (action, subject_user_id, detail) values (%s, %s, %s)",
            (action, subject_user_id, Jsonb(detail) if detail else None),
        )

    def audit_entries(self, subject_user_id: int | None = None) -> list[tuple[str, int | None, dict | None]]:
        rows = self.conn.execute(
            "select action, subject_user_id, detail from vault.audit_log"
            " where %s::bigint is null or subject_user_id = %s order by audit_id",
            (subject_user_id, subject_user_id),
        ).fetchall()
        return [tuple(r) for r in rows]

    # --- users -------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        email: str,
        password: str,
        *,
        trend_sharing: bool = False,
        marketing: bool = False,
        terms: bool = True,
    ) -> VaultUser:
        """Register a user: argon2id hash, a fresh app user id and anonymous id, initial consents."""
        _check_identity(username, email)
        password_hash = hash_password(password, self.hasher)
        return self.add_users([NewUser(username, email, trend_sharing, marketing, terms)], password_hash)[0]

    def add_users(self, users: list[NewUser], password_hash: str) -> list[VaultUser]:
        """Register many users sharing one precomputed hash (the simulator's users cannot log in
        with a known password; argon2id at 64 MiB per user would make large simulations take hours)."""
        for user in users:
            _check_identity(user.username, user.email)
        with self.conn.transaction():
            try:
                rows = self.conn.execute(
                    "insert into vault.users (username, email, password_hash)"
                    " select n.username, n.email, %s from unnest(%s::text[], %s::text[]) as n(username, email)"
                    " returning user_id, username",
                    (password_hash, [u.username for u in users], [u.email.lower() for u in users]),
                ).fetchall()
                id_by_username = dict((name, user_id) for user_id, name in rows)
                ids = [id_by_username[u.username] for u in users]
            except psycopg.errors.UniqueViolation as exc:
                raise VaultError(
                    f"username or email already registered ({exc.diag.constraint_name})"
                ) from exc
            self.conn.execute("insert into vault.anonymous_ids (user_id) select unnest(%s::bigint[])", (ids,))
            consent_rows = [
                (user_id, consent_type, bool(getattr(user, consent_type)))
                for user_id, user in zip(ids, users, strict=True)
                for consent_type in CONSENT_TYPES
            ]
            with self.conn.cursor().copy(
                "copy vault.consents (user_id, consent_type, granted) from stdin"
            ) as copy:
                for row in consent_rows:
                    copy.write_row(row)
            self.conn.execute(
                "insert into vault.audit_log (action, subject_user_id, detail)"
                " select 'user_added', unnest(%s::bigint[]), null",
                (ids,),
            )
            found = self._users_where("u.user_id = any(%s)", (ids,))
        by_id = {u.user_id: u for u in found}
        return [by_id[i] for i in ids]

    def _users_where(self, condition: str, params: tuple) -> list[VaultUser]:
        rows = self.conn.execute(
            f"select {_USER_COLUMNS},"
            " coalesce(jsonb_object_agg(c.consent_type, c.granted) filter (where c.consent_type is not null), '{}')"
            " from vault.users u left join vault.current_consents c on c.user_id = u.user_id"
            f" where {condition} group by {_USER_COLUMNS} order by u.user_id",
            params,
        ).fetchall()
        return [VaultUser(*row[:6], consents=dict(row[6])) for row in rows]

    def get_user(self, login: str, purpose: str = "lookup") -> VaultUser:
        """A user by username, email or app user id (audit-logged)."""
        with self.conn.transaction():
            found = self._users_where(
                "(u.username = %s or u.email = lower(%s) or u.app_user_id = %s)", (login, login, login)
            )
            if not found:
                self._audit("lookup_failed", None, purpose=purpose)
                raise UnknownUser(f"no user {login!r} in the vault (see `smartcart users list`)")
            self._audit("user_read", found[0].user_id, purpose=purpose)
        return found[0]

    def list_users(self, include_erased: bool = False, purpose: str = "list") -> list[VaultUser]:
        with self.conn.transaction():
            users = self._users_where("%s or u.erased_at is null", (include_erased,))
            self._audit("users_listed", None, purpose=purpose, users=len(users))
        return users

    def verify(self, login: str, password: str) -> bool:
        """Check a password; on success rehash when the hasher's parameters changed."""
        with self.conn.transaction():
            row = self.conn.execute(
                "select user_id, password_hash from vault.users"
                " where (username = %s or email = lower(%s)) and erased_at is null",
                (login, login),
            ).fetchone()
            if row is None:
                # Spend the same argon2 time as a real check: no user enumeration by timing.
                verify_password(self._decoy_hash(), password, self.hasher)
                self._audit("login_failed", None, reason="unknown user")
                return False
            user_id, stored = row
            ok = verify_password(stored, password, self.hasher)
            rehashed = False
            if ok and needs_rehash(stored, self.hasher):
                self.conn.execute(
                    "update vault.users set password_hash = %s where user_id = %s",
                    (hash_password(password, self.hasher), user_id),
                )
                rehashed = True
            self._audit("login_succeeded" if ok else "login_failed", user_id, rehashed=rehashed)
        return ok

    def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = hash_password(uuid.uuid4().hex, self.hasher)
        return self._decoy

    def password_hash(self, login: str) -> str | None:
        user = self.get_user(login, purpose="password_hash")
        return self.conn.execute(
            "select password_hash from vault.users where user_id = %s", (user.user_id,)
        ).fetchone()[0]

    # --- consents ----------------------------------------------------------------------
    def set_consent(self, login: str, consent_type: str, granted: bool) -> VaultUser:
        if consent_type not in CONSENT_TYPES:
            raise VaultError(f"unknown consent {consent_type!r}; expected one of {', '.join(CONSENT_TYPES)}")
        user = self.get_user(login, purpose="consent")
        if user.erased_at:
            raise VaultError(f"user {login!r} is erased; consents can no longer change")
        with self.conn.transaction():
            self.conn.execute(
                "insert into vault.consents (user_id, consent_type, granted) values (%s, %s, %s)",
                (user.user_id, consent_type, granted),
            )
            self._audit("consent_recorded", user.user_id, consent_type=consent_type, granted=granted)
        return self.get_user(login, purpose="consent")

    def consent_history(self, login: str) -> list[tuple[str, bool, datetime]]:
        user = self.get_user(login, purpose="consent_history")
        rows = self.conn.execute(
            "select consent_type, granted, recorded_at from vault.consents where user_id = %s"
            " order by recorded_at, consent_id",
            (user.user_id,),
        ).fetchall()
        self.conn.commit()
        return [tuple(r) for r in rows]

    # --- pseudonymization (the ingestion boundary) --------------------------------------
    def pseudonymize(self, app_user_ids: Iterable[str], purpose: str, **detail) -> dict[str, Pseudonym]:
        """Batch lookup of app user ids -> anonymous ids, one audit row per batch.

        Unknown ids are absent from the result. Erased users (or users with a pending erasure
        request) come back with erased=True and no anonymous id: their events must be dropped.
        """
        wanted = sorted(set(app_user_ids))
        with self.conn.transaction():
            rows = self.conn.execute(
                "select u.app_user_id, a.anonymous_user_id,"
                " u.erased_at is not null or exists (select 1 from vault.erasure_requests r"
                "   where r.user_id = u.user_id and r.completed_at is null)"
                " from unnest(%s::text[]) as w(app_user_id)"
                " join vault.users u on u.app_user_id = w.app_user_id"
                " left join vault.anonymous_ids a on a.user_id = u.user_id",
                (wanted,),
            ).fetchall()
            result = {
                app_id: Pseudonym(None if erased else anon, bool(erased)) for app_id, anon, erased in rows
            }
            self._audit(
                "pseudonymize_batch",
                None,
                purpose=purpose,
                requested=len(wanted),
                found=len(result),
                erased=sum(1 for p in result.values() if p.erased),
                **detail,
            )
        return result

    def trend_consents(
        self, purpose: str = "publish_trend_consents"
    ) -> list[tuple[uuid.UUID, bool, datetime]]:
        """(anonymous id, trend_sharing, as of) for every live user: what the behaviour DB may know."""
        with self.conn.transaction():
            rows = self.conn.execute(
                "select a.anonymous_user_id, coalesce(c.granted, false), coalesce(c.recorded_at, u.created_at)"
                " from vault.users u join vault.anonymous_ids a on a.user_id = u.user_id"
                " left join vault.current_consents c on c.user_id = u.user_id and c.consent_type = 'trend_sharing'"
                " where u.erased_at is null and not exists (select 1 from vault.erasure_requests r"
                "   where r.user_id = u.user_id and r.completed_at is null)"
            ).fetchall()
            self._audit("trend_consents_read", None, purpose=purpose, users=len(rows))
        return [tuple(r) for r in rows]

    # --- erasure -----------------------------------------------------------------------
    def request_erasure(self, login: str) -> int:
        user = self.get_user(login, purpose="erasure")
        if user.erased_at:
            raise VaultError(f"user {login!r} was already erased at {user.erased_at:%Y-%m-%d %H:%M}")
        with self.conn.transaction():
            existing = self.conn.execute(
                "select erasure_request_id from vault.erasure_requests"
                " where user_id = %s and completed_at is null",
                (user.user_id,),
            ).fetchone()
            if existing:
                return existing[0]
            request_id = self.conn.execute(
                "insert into vault.erasure_requests (user_id) values (%s) returning erasure_request_id",
                (user.user_id,),
            ).fetchone()[0]
            self._audit("erasure_requested", user.user_id, erasure_request_id=request_id)
        return request_id

    def pending_erasures(self) -> list[PendingErasure]:
        with self.conn.transaction():
            rows = self.conn.execute(
                "select r.erasure_request_id, r.user_id, a.anonymous_user_id from vault.erasure_requests r"
                " left join vault.anonymous_ids a on a.user_id = r.user_id"
                " where r.completed_at is null order by r.erasure_request_id"
            ).fetchall()
            for _, user_id, _ in rows:
                self._audit("erasure_mapping_read", user_id, purpose="erasure_processing")
        return [PendingErasure(*r) for r in rows]

    def complete_erasure(self, pending: PendingErasure, behavior_rows_deleted: int) -> None:
        """Scrub the user's PII and drop the id mapping (after their behaviour rows are gone)."""
        with self.conn.transaction():
            self.conn.execute(
                "update vault.users set username = 'erased-' || user_id,"
                " email = 'erased-' || user_id || '@invalid', password_hash = null,"
                " erased_at = coalesce(erased_at, now()) where user_id = %s",
                (pending.user_id,),
            )
            self.conn.execute("delete from vault.anonymous_ids where user_id = %s", (pending.user_id,))
            self.conn.execute(
                "update vault.erasure_requests set completed_at = now(), behavior_rows_deleted = %s"
                " where erasure_request_id = %s",
                (behavior_rows_deleted, pending.erasure_request_id),
            )
            self._audit(
                "erasure_completed",
                pending.user_id,
                erasure_request_id=pending.erasure_request_id,
                behavior_rows_deleted=behavior_rows_deleted,
            )

    # --- leak checks -------------------------------------------------------------------
    def identifying_values(self, purpose: str = "leak_check") -> set[str]:
        """Every username, email and app user id held in the vault (for the leak scanner)."""
        with self.conn.transaction():
            rows = self.conn.execute(
                "select username, email, app_user_id from vault.users where erased_at is null"
                " union all select null, null, app_user_id from vault.users where erased_at is not null"
            ).fetchall()
            self._audit("identifying_values_read", None, purpose=purpose, users=len(rows))
        return {value for row in rows for value in row if value}


def _check_identity(username: str, email: str) -> None:
    if not username or not username.strip() or username != username.strip():
        raise VaultError("a username must be non-empty, without leading or trailing spaces")
    if username.startswith("erased-"):
        raise VaultError("usernames starting with 'erased-' are reserved")
    if "@" not in email or email.strip() != email:
        raise VaultError(f"{email!r} is not an email address")
