"""SDK clients against the emulator as a real server (``kimi_emulator``, reset per test): the
sync and async clients on the Open Platform and on Kimi Code, each with its own data directory,
and no KIMI_* variable of the machine leaking in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import AsyncKimi, Kimi
from kimi_gateway.settings import ENV_NAMES

PLATFORM_KEY = "sk-sdk-test-platform"
CODE_KEY = "sk-kimi-sdk-test-code"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def kimi(kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None) -> Iterator[Kimi]:
    with Kimi(PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path / "data") as client:
        yield client


@pytest.fixture
def code_kimi(kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None) -> Iterator[Kimi]:
    with Kimi(CODE_KEY, kimi_emulator.url + "/coding", data_dir=tmp_path / "data") as client:
        yield client


@pytest.fixture
async def akimi(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> AsyncIterator[AsyncKimi]:
    async with AsyncKimi(
        PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path / "data"
    ) as client:
        yield client


def chat_bodies(emulator: EmulatorServer) -> list[dict[str, object]]:
    """The bodies of the generation requests the emulator received, in order."""
    return [
        r["body"]
        for r in emulator.requests()
        if str(r["path"]).endswith("/chat/completions") and isinstance(r["body"], dict)
    ]
