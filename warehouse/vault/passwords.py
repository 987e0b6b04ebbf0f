"""Password hashing for the vault: argon2id with parameters at or above OWASP's recommendation.

OWASP's minimum for argon2id is m=19 MiB, t=2, p=1; we use RFC 9106's second recommended
option (m=64 MiB, t=3, p=4), which is stronger on every axis. When the parameters change,
a successful login rehashes the stored hash (see Vault.verify).
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet (argon2id minimum): 19 MiB, 2 iterations, 1 lane.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2

DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_KIB = 64 * 1024
DEFAULT_PARALLELISM = 4


def default_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=DEFAULT_TIME_COST,
        memory_cost=DEFAULT_MEMORY_KIB,
        parallelism=DEFAULT_PARALLELISM,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    if not password:
        raise ValueError("a password must not be empty")
    return (hasher or default_hasher()).hash(password)


def verify_password(stored_hash: str | None, password: str, hasher: PasswordHasher | None = None) -> bool:
    """True when `password` matches `stored_hash` (never raises on a bad or missing hash)."""
    if not stored_hash:
        return False
    try:
        return (hasher or default_hasher()).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher | None = None) -> bool:
    return (hasher or default_hasher()).check_needs_rehash(stored_hash)
