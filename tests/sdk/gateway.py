"""A kimi-gateway as a real uvicorn server on 127.0.0.1 in front of an emulator, for the SDK's
gateway mode (``gateway_url=``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.server.app import create_app
from kimi_gateway.settings import Settings

from .conftest import CODE_KEY, PLATFORM_KEY


@contextmanager
def running_gateway(emulator: EmulatorServer, data_dir: Path) -> Iterator[str]:
    """The gateway's root URL while the block runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        api_key=SecretStr(PLATFORM_KEY),
        code_api_key=SecretStr(CODE_KEY),
        base_url=emulator.platform_url,
        anthropic_base_url=emulator.url + "/anthropic",
        code_base_url=emulator.url + "/coding",
        data_dir=data_dir,
        access_log="off",
        host="127.0.0.1",
        port=port,
    )
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
