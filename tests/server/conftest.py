"""No KIMI_* variable of the machine leaks into settings built by these tests."""

from __future__ import annotations

import pytest

from kimi_gateway.settings import ENV_NAMES


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
