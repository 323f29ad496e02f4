"""Run the emulator as a real HTTP server: in a background thread for tests
(`EmulatorServer`), or blocking for the CLI (`run_emulator`).

Streaming can only be tested over a real socket (DESIGN.md §4.3), so the test server binds
127.0.0.1 on a free port and serves with uvicorn in a daemon thread.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from kimi_gateway.emulator.app import create_emulator_app
from kimi_gateway.emulator.config import EmulatorConfig, load_emulator_config
from kimi_gateway.emulator.state import EmulatorState

_START_TIMEOUT = 10.0


class EmulatorServer:
    """The emulator on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1") -> None:
        self.state = EmulatorState(config or EmulatorConfig())
        self.host = host
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        port = sock.getsockname()[1]
        app = create_emulator_app(self.state.config, self.state)
        settings = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            server_header=False,  # the app sends nginx's, as Kimi does (§1.1)
        )
        self._server = uvicorn.Server(settings)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Kimi emulator did not start")
            time.sleep(0.01)
        self.url = f"http://{self.host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def config(self) -> EmulatorConfig:
        """The config in force (the state's: ``reconfigure`` replaces it)."""
        return self.state.config

    @property
    def platform_url(self) -> str:
        """Base URL for OpenAI clients of the Open Platform (`…/v1`)."""
        return self.url + "/v1"

    @property
    def kimi_code_url(self) -> str:
        """Base URL for OpenAI clients of Kimi Code (`…/coding/v1`)."""
        return self.url + "/coding/v1"

    def requests(self) -> list[dict[str, Any]]:
        """The request log: method, path, query, redacted headers, JSON body or None, status,
        and ``cancelled: True`` when the client went away before a streamed reply ended."""
        return self.state.requests()

    def reset(self) -> None:
        """Forget requests, caches, counters and files; restore the balance."""
        self.state.reset()

    def reconfigure(self, config: EmulatorConfig) -> None:
        """Switch to another config (and reset), without restarting the server."""
        self.state.reset(config)


def run_emulator(host: str, port: int, config_path: str | None) -> None:
    """Serve the emulator until interrupted (the `kimi-gateway emulate` command)."""
    config = load_emulator_config(config_path)
    app = create_emulator_app(config, EmulatorState(config))
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
