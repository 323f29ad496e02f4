"""The bare relay floor: the least a Python relay can do with the gateway's own server and HTTP
client (uvicorn + uvloop + httptools; one pooled ``httpx.AsyncClient``). It forwards the request
bytes to the upstream at the same path and streams the response bytes back, with no parsing,
no routing, no logging. Its CPU per request is the floor the gateway is measured against
(issue 5: gateway ≤ 1.5 × floor). ``--client aiohttp`` swaps in aiohttp's pooled session, to
measure the HTTP client choice (issue 5 item 2).

Run: ``python bench/relay_floor.py --upstream http://127.0.0.1:PORT --port 9000 [--client C]``
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Request headers worth forwarding; everything else (host, content-length …) httpx sets itself.
FORWARD = (b"content-type", b"authorization", b"x-api-key", b"anthropic-version", b"accept")


Call = AbstractAsyncContextManager[tuple[int, bytes, AsyncIterator[bytes]]]


class HttpxUpstream:
    """The gateway's client: one pooled ``httpx.AsyncClient``."""

    def __init__(self) -> None:
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        self.client = httpx.AsyncClient(limits=limits, timeout=30.0)

    async def close(self) -> None:
        await self.client.aclose()

    @asynccontextmanager
    async def call(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> AsyncIterator[tuple[int, bytes, AsyncIterator[bytes]]]:
        request = self.client.build_request(method, url, headers=headers, content=body)
        response = await self.client.send(request, stream=True)
        try:
            ctype = response.headers.get("content-type", "application/octet-stream")
            yield response.status_code, ctype.encode("latin-1"), response.aiter_raw()
        finally:
            await response.aclose()


class AiohttpUpstream:
    """The alternative measured for issue 5 item 2: one pooled ``aiohttp.ClientSession``."""

    def __init__(self) -> None:
        aiohttp: Any = importlib.import_module("aiohttp")
        connector = aiohttp.TCPConnector(limit=256)
        self.session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=30)
        )

    async def close(self) -> None:
        await self.session.close()

    @asynccontextmanager
    async def call(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> AsyncIterator[tuple[int, bytes, AsyncIterator[bytes]]]:
        plain = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
        async with self.session.request(method, url, headers=plain, data=body) as response:
            ctype = response.headers.get("content-type", "application/octet-stream")
            yield response.status, ctype.encode("latin-1"), response.content.iter_any()


CLIENTS: dict[str, type[HttpxUpstream | AiohttpUpstream]] = {
    "httpx": HttpxUpstream,
    "aiohttp": AiohttpUpstream,
}


class RelayFloor:
    """An ASGI app that relays every HTTP request to ``upstream`` byte for byte."""

    def __init__(self, upstream: str, client: str = "httpx") -> None:
        self.upstream = upstream.rstrip("/")
        self.client_name = client
        self.client: HttpxUpstream | AiohttpUpstream | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._relay(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = CLIENTS[self.client_name]()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.client is not None
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = [(k, v) for k, v in scope["headers"] if k in FORWARD]
        url = self.upstream + scope["path"]
        async with self.client.call(scope["method"], url, headers, body) as (status, ctype, chunks):
            start = {"type": "http.response.start", "status": status}
            await send({**start, "headers": [(b"content-type", ctype)]})
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--client", choices=sorted(CLIENTS), default="httpx")
    args = parser.parse_args()
    uvicorn.run(
        RelayFloor(args.upstream, args.client),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
