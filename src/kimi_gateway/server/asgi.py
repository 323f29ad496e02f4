"""Raw ASGI plumbing the gateway needs, and nothing more: read a bounded body, send a JSON or
byte body, send a stream event by event, and notice a client that went away.

The gateway is a plain ASGI callable (no framework request/response objects on the hot path);
these functions are its whole vocabulary for talking to the server. Streams are never buffered:
each chunk handed to :func:`send_chunk` goes out as one ``http.response.body`` message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, TypeAlias

import orjson

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
Headers: TypeAlias = list[tuple[bytes, bytes]]

JSON_TYPE = (b"content-type", b"application/json")
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # tell nginx-like proxies in front of us not to buffer
]


# Set in the scope by the connection (server/http_protocol.py) when the request body arrives
# too slowly; whoever reads the body answers 408 (issue 10 item 5).
BODY_TIMED_OUT = "kimi_gateway.body_timed_out"
# Set in the scope by the connection (server/http_protocol.py): a list of callbacks it calls
# when the client goes away before the response is complete. Without it (another ASGI server),
# a DisconnectWatch waits on ``receive`` in a task of its own.
ON_DISCONNECT = "kimi_gateway.on_disconnect"


class BodyTooLarge(Exception):
    """The request body is larger than the configured limit."""


class BodyTimeout(Exception):
    """The request body arrived too slowly (``security.connections``); answer 408."""


class ClientGone(Exception):
    """The client disconnected before its body was read."""


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (``name`` in lower case), decoded as latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes (before reading, when
    ``content-length`` already says so)."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        if BODY_TIMED_OUT in scope:
            raise BodyTimeout
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_bytes(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """A complete response with a known length."""
    head = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, body: Any, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    await send_bytes(send, status, orjson.dumps(body), [JSON_TYPE, *headers])


async def start_stream(send: Send, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})


async def send_chunk(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def end_stream(send: Send) -> None:
    await send({"type": "http.response.body", "body": b""})


class DisconnectWatch:
    """Cancels the task that created it when the client disconnects (DESIGN.md §4.11).

    ASGI servers (uvicorn) silently drop what is sent after a disconnect, so without a watcher
    an upstream generation would run to its end for nobody. Use after the body has been read:
    ``receive`` then only ever yields ``http.disconnect``. Call :meth:`finish` before the last
    send so that the disconnect that follows a complete response cancels nothing.
    """

    def __init__(self, receive: Receive, scope: Scope | None = None) -> None:
        self.disconnected = False
        self._finished = False
        self._owner = asyncio.current_task()
        self._task: asyncio.Task[None] | None = None
        self._hooks: list[Callable[[], None]] | None = None
        hooks = None if scope is None else scope.get(ON_DISCONNECT)
        if isinstance(hooks, list):  # our connection calls us: no task, no await per request
            hooks.append(self._lost)
            self._hooks = hooks
        else:
            self._task = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
        self._lost()

    def _lost(self) -> None:
        if not self._finished and self._owner is not None:
            self.disconnected = True
            self._owner.cancel()

    def finish(self) -> None:
        self._finished = True
        if self._hooks is not None:
            self._hooks.remove(self._lost)  # the connection no longer holds this request
            self._hooks = None
        if self._task is not None:
            self._task.cancel()
            # The cancelled task keeps its CancelledError, whose traceback holds _watch's frame
            # and so this watch: without this the task, the request's own task (_owner) and
            # its connection stayed in a reference cycle until a full collection, so a burst
            # of streams kept its memory (bench/STREAMS.md).
            self._task = None
