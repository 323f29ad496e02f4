"""The key store (hashed SQL rows) and the in-memory index that checks presented keys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_gateway.ledger.keys import KeyStore, hash_key
from kimi_gateway.server.auth import (
    ANONYMOUS,
    MASTER,
    KeyIndex,
    Principal,
    auth_required,
    presented_key,
)
from kimi_gateway.settings import Settings, SettingsError, load_settings


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KeyStore]:
    made = KeyStore(f"sqlite:///{tmp_path / 'deep' / 'keys.db'}")
    yield made
    made.close()


def test_create_list_revoke(store: KeyStore) -> None:
    record, plain = store.create("ci", ["kimi-k2.6"])
    assert plain.startswith("kgw-")
    assert len(plain) == 4 + 43
    assert record.key_sha256 == hashlib.sha256(plain.encode()).hexdigest()
    assert (record.name, record.models, record.display) == ("ci", ("kimi-k2.6",), plain[:10] + "…")
    assert store.all() == [record]
    assert store.revoke(record.id) is True
    assert store.revoke(record.id) is False
    assert store.active() == []
    [revoked] = store.all()
    assert revoked.revoked_at is not None
    public = revoked.public()
    assert set(public) == {"id", "name", "key", "models", "created_at", "revoked_at"}
    assert plain not in str(public)
    assert record.key_sha256 not in str(public)


def test_index_with_no_keys_is_optional() -> None:
    index = KeyIndex(Settings())
    assert index.required is False
    assert index.authenticate(None) is ANONYMOUS
    assert index.authenticate("whatever") is ANONYMOUS


def test_index_with_keys(store: KeyStore) -> None:
    record, plain = store.create("limited", ["kimi-k2.5"])
    index = KeyIndex(
        Settings.model_validate(
            {
                "master_key": "kgw-master",
                "keys": [{"name": "cfg", "key": "kgw-from-config", "models": []}],
            }
        )
    )
    index.load(store.active())
    assert index.required is True
    assert index.authenticate(None) is None
    assert index.authenticate("wrong") is None
    assert index.authenticate("kgw-master") is MASTER
    assert index.authenticate("kgw-from-config") == Principal(key_id="config:cfg", models=())
    found = index.authenticate(plain)
    assert found == Principal(key_id=record.id, models=("kimi-k2.5",))
    assert found is not None
    assert found.allows("claude-haiku", "kimi-k2.5")
    assert not found.allows("kimi-k2.6")
    assert index.is_master("kgw-master")
    assert not index.is_master(plain)
    store.revoke(record.id)
    index.load(store.active())
    assert index.authenticate(plain) is None


def test_config_key_by_hash_only() -> None:
    digest = hash_key("kgw-secret")
    index = KeyIndex(Settings.model_validate({"keys": [{"name": "h", "key_sha256": digest}]}))
    assert index.authenticate("kgw-secret") == Principal(key_id="config:h")


def test_config_key_needs_exactly_one_form(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("keys:\n  - name: x\n")
    with pytest.raises(SettingsError, match="needs exactly one of key, key_sha256"):
        load_settings(config)


def test_presented_key_header_forms() -> None:
    def scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
        return {"headers": list(headers)}

    assert presented_key(scope((b"authorization", b"Bearer abc"))) == "abc"
    assert presented_key(scope((b"authorization", b"bearer  abc "))) == "abc"
    assert presented_key(scope((b"x-api-key", b"xyz"))) == "xyz"
    assert presented_key(scope((b"authorization", b"Basic abc"), (b"x-api-key", b"k"))) == "k"
    assert presented_key(scope((b"x-api-key", b""))) is None
    assert presented_key(scope()) is None


@pytest.mark.parametrize(
    ("host", "master", "config", "stored", "required"),
    [
        ("127.0.0.1", False, False, False, False),  # only a fresh local gateway is open
        ("::1", False, False, False, False),
        ("0.0.0.0", False, False, False, True),
        ("192.168.1.5", False, False, False, True),
        ("127.0.0.1", True, False, False, True),
        ("127.0.0.1", False, True, False, True),
        ("127.0.0.1", False, False, True, True),
    ],
)
def test_auth_required_rule(
    host: str, master: bool, config: bool, stored: bool, required: bool
) -> None:
    assert (
        auth_required(host=host, master_key=master, config_keys=config, stored_keys=stored)
        is required
    )


def test_requiring_keys_is_latched(store: KeyStore) -> None:
    index = KeyIndex(Settings())
    assert index.required is False
    record, plain = store.create("only")
    index.load(store.all())
    assert (index.required, index.usable) == (True, True)
    store.revoke(record.id)
    index.load(store.all())
    assert (index.required, index.usable) == (True, False)
    assert index.authenticate(None) is None
    assert index.authenticate(plain) is None
    index.load([])  # even a store that lost its rows does not open the gateway again
    assert index.required is True
    assert index.authenticate("anything") is None


def test_revoked_rows_alone_require_keys_after_a_restart(store: KeyStore) -> None:
    record, _ = store.create("gone")
    store.revoke(record.id)
    index = KeyIndex(Settings())
    index.load(store.all())
    assert (index.required, index.usable) == (True, False)


def test_a_public_address_always_requires_keys() -> None:
    index = KeyIndex(Settings(host="0.0.0.0"))
    index.load([])
    assert (index.required, index.usable) == (True, False)
    assert index.authenticate(None) is None
