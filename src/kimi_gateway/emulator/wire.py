"""An ASGI response that can misbehave on purpose: slow parts and a dropped connection.

`WireResponse` sends its status and headers, then each part of an async iterator. A `CUT` part
ends the exchange without finishing the body, so the server closes the connection mid-response
(docs/kimi.md §7.1 "If the stream is cut, the usage chunk is lost"; §16.1 item 5). Faces build
the parts; this module knows nothing about dialects.

While it sends, it listens for the client's ``http.disconnect`` and stops pulling parts when one
comes, as Starlette's StreamingResponse does for ASGI servers before spec 2.4. uvicorn speaks 2.3
and drops a send to a closed connection silently, so without listening a paced reply would go on
"generating" for a peer that left, and a gateway's cancellation could not be seen here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Final

import anyio
from starlette.types import Receive, Scope, Send


class _Cut:
    """Marker type of the CUT sentinel."""


CUT: Final = _Cut()

Part = bytes | _Cut


class WireResponse:
    def __init__(self, status: int, headers: Mapping[str, str], parts: AsyncIterator[Part]) -> None:
        self.status = status
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        async with anyio.create_task_group() as group:

            async def stop_on_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(stop_on_disconnect)
            await self._send_parts(send)
            group.cancel_scope.cancel()

    async def _send_parts(self, send: Send) -> None:
        try:
            async for part in self.parts:
                if isinstance(part, _Cut):
                    # Returning without the final body message makes the server drop the
                    # connection: the client sees an incomplete response.
                    return
                await send({"type": "http.response.body", "body": part, "more_body": True})
        except OSError:  # servers that do raise when the client has gone (ASGI spec 2.4)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def replay(parts: Iterable[Part]) -> AsyncIterator[Part]:
    """The parts as an async iterator, without delays (a cut JSON body, for instance)."""
    for part in parts:
        yield part


async def paced(parts: Iterable[Part], delay_ms: int) -> AsyncIterator[Part]:
    """Yield the parts, waiting `delay_ms` between them (slow-chunk faults)."""
    first = True
    for part in parts:
        if not first and delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        first = False
        yield part


async def first_byte_delay(delay_ms: int) -> None:
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)
