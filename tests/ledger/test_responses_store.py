"""The response store on SQLite and on the machine's PostgreSQL: per-key visibility, chains,
TTL (renewed while a conversation goes on), purge, delete; and the sealing key file."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_gateway.ledger.responses import BrokenChain, ResponseStore, StoredResponse, sealing_key


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ResponseStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'kimi-gateway.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = ResponseStore(url)
    yield made
    made.close()


def record(
    rid: str, previous: str | None = None, key: str = "key_a", at: float = 100.0
) -> StoredResponse:
    return StoredResponse(
        id=rid,
        key_id=key,
        previous_id=previous,
        model="kimi-k2.6",
        status="completed",
        created_at=at,
        expires_at=at + 50,
        input_items=[{"id": f"msg_{rid}", "type": "message", "role": "user", "content": rid}],
        response={"id": rid, "output": [{"type": "message", "content": [], "id": f"out_{rid}"}]},
    )


def test_a_response_is_read_back_only_by_its_key_and_before_it_expires(
    store: ResponseStore,
) -> None:
    store.save(record("resp_1"))
    assert store.get("resp_1", "key_a", 120.0) == record("resp_1")
    assert store.get("resp_1", "key_b", 120.0) is None
    assert store.get("resp_1", "key_a", 150.0) is None
    assert store.get("resp_2", "key_a", 120.0) is None


def test_a_chain_is_read_oldest_first_and_a_gap_is_named(store: ResponseStore) -> None:
    store.save(record("resp_1"))
    store.save(record("resp_2", "resp_1", at=110.0))
    store.save(record("resp_3", "resp_2", at=120.0))
    assert [r.id for r in store.chain("resp_3", "key_a", 125.0)] == ["resp_1", "resp_2", "resp_3"]
    with pytest.raises(BrokenChain) as other_key:
        store.chain("resp_3", "key_b", 125.0)
    assert other_key.value.missing == "resp_3"
    assert store.delete("resp_2", "key_a")
    assert not store.delete("resp_2", "key_a")
    with pytest.raises(BrokenChain) as gap:
        store.chain("resp_3", "key_a", 125.0)
    assert gap.value.missing == "resp_2"


def test_renewing_a_chain_keeps_its_start_and_purge_drops_the_expired(
    store: ResponseStore,
) -> None:
    store.save(record("resp_1"))
    store.save(record("resp_2", "resp_1", at=140.0))
    store.renew(["resp_1", "resp_2"], 400.0)
    assert [r.id for r in store.chain("resp_2", "key_a", 300.0)] == ["resp_1", "resp_2"]
    store.renew(["resp_1"], 200.0)  # never shortens
    assert store.get("resp_1", "key_a", 300.0) is not None
    store.save(record("resp_9", at=100.0))
    assert store.purge(160.0) == 1
    assert store.get("resp_9", "key_a", 120.0) is None
    assert store.get("resp_1", "key_a", 120.0) is not None


def test_the_sealing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "responses-sealing.key"
    first = sealing_key(path)
    assert len(first) == 32
    assert sealing_key(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
