"""A gateway as a real uvicorn server on 127.0.0.1 and a free port, in a daemon thread, with
its upstreams on an emulator: what the e2e fixtures (conftest.py) hand to tests."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.server.app import GatewayApp, create_app
from kimi_gateway.server.http_protocol import uvicorn_options
from kimi_gateway.settings import Settings

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
            lines = _whole_lines(text)
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
    """Listens on ``settings.host`` (an IPv4 address; 127.0.0.1 unless a test asks for, say,
    0.0.0.0 to see the public-address rules) and a free port; clients use 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, 0))
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        **uvicorn_options(settings),  # connection limits (security.connections)
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


def _whole_lines(text: str) -> list[dict[str, Any]]:
    """The access log's JSON lines; one still being written (no end yet, or not yet whole) is
    left for the next read."""
    lines = []
    for line in text.splitlines():
        try:
            lines.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return lines
