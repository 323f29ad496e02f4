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

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.server.app import GatewayApp, create_app
from kimi_gateway.settings import ENV_NAMES, Settings

PLATFORM_KEY = "sk-test-platform-0123456789"
CODE_KEY = "sk-kimi-test-code-0123456789"


@dataclass
class GatewayServer:
    url: str
    app: GatewayApp
    settings: Settings
    emulator: EmulatorServer
    log_path: Path
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    def access_log(self, wait_for: int = 0, timeout: float = 2.0) -> list[dict[str, Any]]:
        """The access-log lines written so far (waiting up to ``timeout`` for ``wait_for``)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_path.read_text() if self.log_path.exists() else ""
            lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
            if len(lines) >= wait_for or time.monotonic() > deadline:
                return lines
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def settings_for(emulator: EmulatorServer, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_key": PLATFORM_KEY,
        "code_api_key": CODE_KEY,
        "base_url": emulator.url + "/v1",
        "anthropic_base_url": emulator.url + "/anthropic",
        "code_base_url": emulator.url + "/coding",
        "data_dir": tmp,
        "access_log": str(tmp / "access.log"),
        "keys_refresh_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


def start_gateway(settings: Settings, emulator: EmulatorServer) -> GatewayServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"host": "127.0.0.1", "port": port})
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    log_path = Path(settings.access_log)
    return GatewayServer(
        f"http://127.0.0.1:{port}", app, settings, emulator, log_path, server, thread
    )


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
