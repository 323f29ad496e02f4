"""The gateway as a real server on 127.0.0.1 in front of the emulator (also a real server).

Fixtures:
- ``gateway_factory``: ``make(emulator=None, **overrides) -> GatewayServer`` starts a gateway
  whose four upstreams point at ``emulator`` (default: the session emulator, reset per test),
  with settings ``overrides`` applied (any ``Settings`` field: ``routes``, ``master_key``,
  ``keys``, ``max_tools``, timeouts …). Every gateway made is stopped after the test.
- ``gateway_pool``: session-scoped; ``pool.get(**overrides)`` starts a gateway in front of the
  session emulator once per distinct ``overrides`` and reuses it (for tests that change no
  gateway state: no keys made, no log read without filtering by request id).
- ``gateway``: the pool's gateway with no overrides (the session emulator is reset per test).

``GatewayServer`` exposes ``url`` (root, for Anthropic clients), ``openai_url`` (``url + /v1``),
``emulator``, ``app``, ``settings``, ``access_log()`` (the JSON lines written so far) and the
keys it gave the upstreams (``PLATFORM_KEY``, ``CODE_KEY``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from gateway_server import GatewayServer, settings_for, start_gateway

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.settings import ENV_NAMES


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No KIMI_* variable of the machine leaks into the settings under test."""
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


GatewayFactory = Callable[..., GatewayServer]


@pytest.fixture
def gateway_factory(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> Iterator[GatewayFactory]:
    started: list[GatewayServer] = []

    def make(emulator: EmulatorServer | None = None, **overrides: Any) -> GatewayServer:
        target = emulator or kimi_emulator
        tmp = tmp_path / f"gw{len(started)}"
        tmp.mkdir()
        server = start_gateway(settings_for(target, tmp, **overrides), target)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


class GatewayPool:
    def __init__(self, emulator: EmulatorServer, tmp: Path) -> None:
        self._emulator = emulator
        self._tmp = tmp
        self._servers: dict[bytes, GatewayServer] = {}

    def get(self, **overrides: Any) -> GatewayServer:
        key = orjson.dumps(overrides, option=orjson.OPT_SORT_KEYS)
        if key not in self._servers:
            tmp = self._tmp / f"pool{len(self._servers)}"
            tmp.mkdir()
            settings = settings_for(self._emulator, tmp, **overrides)
            self._servers[key] = start_gateway(settings, self._emulator)
        return self._servers[key]

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()


@pytest.fixture(scope="session")
def gateway_pool(
    kimi_emulator_session: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayPool]:
    with pytest.MonkeyPatch.context() as patch:
        for names in ENV_NAMES.values():
            for name in names:
                patch.delenv(name, raising=False)
        pool = GatewayPool(kimi_emulator_session, tmp_path_factory.mktemp("gateways"))
        yield pool
        pool.stop()


@pytest.fixture
def gateway(gateway_pool: GatewayPool, kimi_emulator: EmulatorServer) -> GatewayServer:
    return gateway_pool.get()
