"""The Responses state a gateway keeps: its sealing key (the data directory's, or the
environment's) and the store, which sweeps expired responses about once an hour as it saves."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimi_gateway.core.model import ThinkingPart
from kimi_gateway.ledger.responses import StoredResponse
from kimi_gateway.server.responses_state import KEY_FILE, PURGE_EVERY, open_responses
from kimi_gateway.settings import Settings
from kimi_gateway.settings_responses import ResponsesSettings


def record(rid: str, at: float) -> StoredResponse:
    return StoredResponse(rid, "k", None, "m", "completed", at, at + 10, [], {"id": rid})


def test_saving_sweeps_expired_responses_once_an_hour(tmp_path: Path) -> None:
    state = open_responses(Settings(data_dir=tmp_path))
    assert state.store is not None
    try:
        state.save(record("resp_old", 1000.0))
        state.save(record("resp_new", 1020.0))  # within the hour: no sweep yet
        assert state.store.get("resp_old", "k", 1005.0) is not None
        state.save(record("resp_later", 1000.0 + PURGE_EVERY))
        assert state.store.get("resp_old", "k", 1005.0) is None  # swept
        assert state.store.get("resp_later", "k", 1000.0 + PURGE_EVERY) is not None
    finally:
        state.close()


def test_the_key_is_the_data_dirs_unless_the_environment_gives_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = ThinkingPart("why")
    own = open_responses(Settings(data_dir=tmp_path, responses=ResponsesSettings(store=False)))
    assert own.store is None
    assert (tmp_path / KEY_FILE).is_file()
    again = open_responses(Settings(data_dir=tmp_path, responses=ResponsesSettings(store=False)))
    assert again.sealer.unseal(own.sealer.seal(part)) == part
    monkeypatch.setenv("KGW_SEAL", "e" * 32)
    config = ResponsesSettings(store=False, sealing_key_env="KGW_SEAL")
    shared = open_responses(Settings(data_dir=tmp_path / "other", responses=config))
    assert shared.sealer.unseal(own.sealer.seal(part)) is None
    assert not (tmp_path / "other" / KEY_FILE).exists()
