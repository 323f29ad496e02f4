"""pytest fixtures that run the Kimi emulator as a real server on 127.0.0.1.

Registered as the `kimi_emulator` pytest11 entry point, so any project that installs
kimi-gateway gets them: `kimi_emulator` (one server per session, reset to the default config
before each test) and `kimi_emulator_factory` (servers with a custom config, stopped after the
test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.server import EmulatorServer

EmulatorFactory = Callable[..., EmulatorServer]


@pytest.fixture(scope="session")
def kimi_emulator_session() -> Iterator[EmulatorServer]:
    """The one emulator of the test session (prefer `kimi_emulator`, which resets it)."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def kimi_emulator(kimi_emulator_session: EmulatorServer) -> EmulatorServer:
    """The session's emulator, back to the default config with an empty log."""
    kimi_emulator_session.reconfigure(EmulatorConfig())
    return kimi_emulator_session


@pytest.fixture
def kimi_emulator_factory() -> Iterator[EmulatorFactory]:
    """`make(config=None, **fields)`: start an emulator with an EmulatorConfig, a mapping, or
    keyword fields; every server made is stopped after the test."""
    servers: list[EmulatorServer] = []

    def make(
        config: EmulatorConfig | Mapping[str, Any] | None = None, **fields: Any
    ) -> EmulatorServer:
        if isinstance(config, EmulatorConfig):
            chosen = config
        else:
            chosen = EmulatorConfig.model_validate({**(config or {}), **fields})
        server = EmulatorServer(chosen).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
