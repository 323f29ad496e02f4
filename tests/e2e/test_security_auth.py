"""When a gateway key is required (issue 10 item 1), through a running gateway at every
transition: a key created, the last key revoked, the store reloaded by a restart; on a loopback
and on a public address. And the master key is not a client key (item 7).

Before the fix, revoking the last key opened the gateway to anyone (``KeyIndex.required`` was
false once the index was empty, and the public-address check ran only at start).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kimi_gateway.ledger.keys import KeyStore

CHAT = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "@@text:ok@@"}]}
MESSAGE = {**CHAT, "max_tokens": 20}
MASTER = "kgw-master-security-0123456789"


def _chat(gateway: Any, key: str | None = None) -> int:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    reply = httpx.post(gateway.openai_url + "/chat/completions", json=CHAT, headers=headers)
    return reply.status_code


def _settles(gateway: Any, key: str | None, status: int) -> bool:
    """Whether requests with ``key`` answer ``status`` within a few key-refresh periods."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _chat(gateway, key) == status:
            return True
        time.sleep(0.05)
    return False


def _stays(gateway: Any, key: str | None, status: int, seconds: float = 1.0) -> None:
    """Requests with ``key`` answer ``status`` for ``seconds`` (several reloads of the store)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert _chat(gateway, key) == status
        time.sleep(0.1)


def _store(data_dir: Path) -> KeyStore:
    return KeyStore(f"sqlite:///{data_dir / 'kimi-gateway.db'}")


def test_loopback_created_revoked_reloaded(gateway_factory: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    gateway = gateway_factory(data_dir=data)
    assert _chat(gateway) == 200  # a fresh local gateway: no key configured, none needed
    store = _store(data)
    try:
        record, key = store.create("first")
        assert _settles(gateway, None, 401)  # created: keys are now required
        assert _chat(gateway, key) == 200
        assert store.revoke(record.id)
        assert _settles(gateway, key, 401)  # revoked: the key is refused …
        _stays(gateway, None, 401)  # … and so is a request without one (was: 200)
    finally:
        store.close()
    gateway.stop()
    restarted = gateway_factory(data_dir=data)  # reloaded: only a revoked row in the store
    assert _chat(restarted) == 401
    assert _chat(restarted, key) == 401


def test_public_address_stays_required_after_revocation(
    gateway_factory: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    store = _store(data)
    try:
        record, key = store.create("only")
        gateway = gateway_factory(data_dir=data, host="0.0.0.0")
        assert _chat(gateway) == 401
        assert _chat(gateway, key) == 200
        assert store.revoke(record.id)
        assert _settles(gateway, key, 401)
        _stays(gateway, None, 401)  # was: 200, to anyone who could reach 0.0.0.0
    finally:
        store.close()


def test_public_address_requires_a_key_even_with_only_the_master_key(
    gateway_factory: Any,
) -> None:
    gateway = gateway_factory(host="0.0.0.0", master_key=MASTER)
    admin = {"authorization": f"Bearer {MASTER}"}
    made = httpx.post(gateway.url + "/admin/keys", json={"name": "c"}, headers=admin).json()
    assert _chat(gateway, made["key"]) == 200
    revoked = httpx.delete(gateway.url + "/admin/keys/" + made["id"], headers=admin)
    assert revoked.status_code == 200
    assert _chat(gateway, made["key"]) == 401
    assert _chat(gateway) == 401


@pytest.mark.parametrize(
    ("path", "body", "shape"),
    [
        ("/v1/chat/completions", CHAT, "openai"),
        ("/v1/messages", MESSAGE, "anthropic"),
        ("/v1/messages/count_tokens", CHAT, "anthropic"),
    ],
)
def test_the_master_key_is_not_a_client_key(
    gateway_factory: Any, path: str, body: dict[str, Any], shape: str
) -> None:
    gateway = gateway_factory(master_key=MASTER)
    for headers in ({"authorization": f"Bearer {MASTER}"}, {"x-api-key": MASTER}):
        reply = httpx.post(gateway.url + path, json=body, headers=headers)
        assert reply.status_code == 403
        message = (
            "the master key is for the admin API and cannot be used as a client key; use a "
            "gateway key (`kimi-gateway keys create NAME` or POST /admin/keys)"
        )
        if shape == "openai":
            assert reply.json() == {
                "error": {
                    "message": message,
                    "type": "permission_error",
                    "param": None,
                    "code": None,
                }
            }
        else:
            assert reply.json() == {
                "type": "error",
                "error": {"type": "permission_error", "message": message},
            }
    assert gateway.emulator.requests() == []
    # It still lists models and runs the admin API.
    admin = {"authorization": f"Bearer {MASTER}"}
    assert httpx.get(gateway.openai_url + "/models", headers=admin).status_code == 200
    assert httpx.get(gateway.url + "/admin/keys", headers=admin).status_code == 200
