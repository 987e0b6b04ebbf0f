"""The vault API: users, argon2id hashing and rehash, consents with history, pseudonyms, audit, erasure."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from argon2 import PasswordHasher, Type

from orchestration.cli import main as smartcart
from warehouse.vault import Vault, VaultError, process_erasures
from warehouse.vault.passwords import OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST, default_hasher

pytestmark = pytest.mark.integration


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def vault(warehouse_settings):
    with Vault.open(warehouse_settings) as vault:
        yield vault


def test_hasher_is_argon2id_at_or_above_owasp():
    hasher = default_hasher()
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB and hasher.time_cost >= OWASP_MIN_TIME_COST
    assert hasher.hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_add_verify_and_rehash_when_parameters_change(warehouse_settings):
    name = _unique("ann")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    with Vault.open(warehouse_settings, hasher=weak) as old_vault:
        user = old_vault.add_user(name, f"{name}@example.org", "correct horse", trend_sharing=True)
        assert user.consents == {"terms": True, "trend_sharing": True, "marketing": False}
        assert user.app_user_id.startswith("app-") and name not in user.app_user_id
        assert old_vault.password_hash(name).startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    with Vault.open(warehouse_settings) as vault:
        assert not vault.verify(name, "wrong")
        assert vault.password_hash(name).startswith("$argon2id$v=19$m=8192")  # no rehash on failure
        assert vault.verify(name, "correct horse")
        assert vault.password_hash(name).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert vault.verify(f"{name}@EXAMPLE.org", "correct horse")  # email login, case-insensitive
        actions = [a for a, _, _ in vault.audit_entries(user.user_id)]
        assert actions[:1] == ["user_added"] and "login_failed" in actions
        assert any(detail == {"rehashed": True} for a, _, detail in vault.audit_entries(user.user_id))


def test_duplicate_usernames_and_bad_emails_are_refused(vault):
    name = _unique("bob")
    vault.add_user(name, f"{name}@example.org", "pw-one-two")
    with pytest.raises(VaultError, match="already registered"):
        vault.add_user(name, f"other-{name}@example.org", "pw-one-two")
    with pytest.raises(VaultError, match="not an email"):
        vault.add_user(_unique("c"), "nope", "pw")


def test_consents_keep_their_history(vault):
    name = _unique("cat")
    vault.add_user(name, f"{name}@example.org", "pw-cat-cat")
    vault.set_consent(name, "trend_sharing", True)
    user = vault.set_consent(name, "trend_sharing", False)
    assert user.consents["trend_sharing"] is False
    history = [(t, g) for t, g, _ in vault.consent_history(name) if t == "trend_sharing"]
    assert history == [("trend_sharing", False), ("trend_sharing", True), ("trend_sharing", False)]
    with pytest.raises(VaultError, match="unknown consent"):
        vault.set_consent(name, "selling_my_soul", True)


def test_pseudonymize_is_a_batch_random_mapping_and_audited(vault):
    names = [_unique("dan") for _ in range(3)]
    users = [vault.add_user(n, f"{n}@example.org", "pw-dan-dan") for n in names]
    before = len(vault.audit_entries())
    found = vault.pseudonymize([u.app_user_id for u in users] + ["app-unknown"], purpose="test")
    assert set(found) == {u.app_user_id for u in users}
    anon = {p.anonymous_user_id for p in found.values()}
    assert len(anon) == 3 and all(isinstance(a, uuid.UUID) for a in anon)
    # Not derivable: not a name-based uuid of the app id, username or email.
    for user in users:
        for value in (user.app_user_id, user.username, user.email):
            for namespace in (uuid.NAMESPACE_DNS, uuid.NAMESPACE_OID, uuid.NAMESPACE_URL):
                assert uuid.uuid5(namespace, value) not in anon and uuid.uuid3(namespace, value) not in anon
    entries = vault.audit_entries()[before:]
    assert [(a, d["requested"], d["found"]) for a, _, d in entries] == [("pseudonymize_batch", 4, 3)]


def test_erasure_scrubs_pii_deletes_behaviour_rows_and_drops_late_events(vault, warehouse_settings):
    name = _unique("eve")
    user = vault.add_user(name, f"{name}@example.org", "pw-eve-eve", trend_sharing=True)
    anon = vault.pseudonymize([user.app_user_id], purpose="test")[user.app_user_id].anonymous_user_id
    sha = uuid.uuid4().hex
    with psycopg.connect(warehouse_settings.database_url("behavior")) as admin:
        admin.execute("insert into raw.event_files values (%s, 'f.jsonl', 1, now())", (sha,))
        admin.execute(
            "insert into raw.app_events values (%s, %s, 'list_created', now(), '{}', %s)",
            (uuid.uuid4().hex, anon, sha),
        )
        admin.execute("insert into raw.trend_consents values (%s, true, now())", (anon,))
    vault.request_erasure(name)
    assert vault.pseudonymize([user.app_user_id], purpose="test")[user.app_user_id].erased  # pending
    with psycopg.connect(warehouse_settings.database_url("behavior", "smartcart_ingest")) as behavior:
        results = process_erasures(vault, behavior)
        assert [(r.user_id, r.behavior_rows_deleted) for r in results] == [(user.user_id, 1)]
        for table in ("raw.app_events", "raw.trend_consents"):
            assert behavior.execute(
                f"select count(*) from {table} where anonymous_user_id = %s", (anon,)
            ).fetchone() == (0,)
    erased = vault.get_user(user.app_user_id)
    assert erased.erased_at and erased.username == f"erased-{user.user_id}" and name not in erased.email
    assert not vault.verify(name, "pw-eve-eve")
    assert vault.pseudonymize([user.app_user_id], purpose="test")[user.app_user_id].erased
    assert all(a != anon for a, _, _ in vault.trend_consents())
    with pytest.raises(VaultError, match="already erased"):
        vault.request_erasure(user.app_user_id)


def test_users_cli_add_verify_consent_erase_list(warehouse_settings, monkeypatch, capsys):
    name = _unique("fay")
    monkeypatch.setenv("SMARTCART_USER_PASSWORD", "pw-fay-fay")
    assert smartcart(["users", "add", name, f"{name}@example.org", "--trend-sharing"]) == 0
    assert "trend_sharing=yes" in capsys.readouterr().out
    assert smartcart(["users", "verify", name]) == 0
    monkeypatch.setenv("SMARTCART_USER_PASSWORD", "wrong")
    assert smartcart(["users", "verify", name]) == 1
    assert smartcart(["users", "consent", name, "marketing", "grant"]) == 0
    assert "marketing=yes" in capsys.readouterr().out
    assert smartcart(["users", "list"]) == 0
    assert name in capsys.readouterr().out
    assert smartcart(["users", "erase", name]) == 0
    assert "0 behaviour rows deleted" in capsys.readouterr().out
    assert smartcart(["users", "list"]) == 0
    assert name not in capsys.readouterr().out
    assert smartcart(["users", "erase", "nobody-such"]) == 1
