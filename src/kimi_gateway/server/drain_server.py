"""uvicorn's Server, shut down the gateway's way on SIGTERM (issue 12 item 6).

uvicorn already stops accepting and waits for open connections up to
``timeout_graceful_shutdown``, then cancels what is left (a stream cut without its error event)
and re-raises the signal (exit status 143). Here SIGTERM also starts the app's drain
(server/drain.py: what is still running at ``drain_seconds`` ends with the dialect's error
event), and the process exits 0 once it has drained: the shutdown was asked for, and done.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from types import FrameType

import uvicorn

from kimi_gateway.server.app import GatewayApp

AFTER_DRAIN = 5.0  # seconds uvicorn waits past the drain for ended streams to close


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: GatewayApp, drain_seconds: float) -> None:
        super().__init__(config)
        self._app = app
        self._drain_seconds = drain_seconds
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM:
            # asked to stop, and it will stop cleanly: exit 0, do not re-raise SIGTERM
            self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]
        if first and self._loop is not None:
            self._loop.call_soon_threadsafe(self._app.begin_drain, self._drain_seconds)
