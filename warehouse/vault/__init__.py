"""The vault (smartcart_vault): PII, the user-id -> anonymous-id mapping, consents, erasure, audit.

Nothing else in SmartCart reads the vault; ingestion asks it, in batches, for anonymous ids.
"""

from warehouse.vault.api import (
    AUTH_ROLE,
    CONSENT_TYPES,
    NewUser,
    Pseudonym,
    UnknownUser,
    Vault,
    VaultError,
    VaultUser,
)
from warehouse.vault.erasure import ErasureResult, process_erasures

__all__ = [
    "AUTH_ROLE",
    "CONSENT_TYPES",
    "ErasureResult",
    "NewUser",
    "Pseudonym",
    "UnknownUser",
    "Vault",
    "VaultError",
    "VaultUser",
    "process_erasures",
]
