"""``/v1/files…`` relayed to the Open Platform's Files API (kimi-api.md §9), bytes streamed
both ways: a multipart upload goes out as it comes in, a download comes back as it arrives.

Only the platform key is added; the client's own auth headers never go upstream. Errors are
re-rendered in OpenAI's shape (the platform's own, but an HTML 404/504 page becomes JSON too).
Without an Open Platform key (Kimi Code only) there is no Files API: 404 saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.server.asgi import ClientGone, end_stream, header, send_chunk, start_stream
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.upstream_call import explained, transport_error
from kimi_gateway.server.upstreams import Upstream

# §9 [O]: 100 MB per file; the multipart envelope adds a little.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024 + 1024 * 1024
_REQUEST_HEADERS = (b"content-type", b"content-length", b"accept")
_RESPONSE_HEADERS = ("content-type", "content-length", "content-disposition", "content-encoding")


class _Upload:
    """The client's body as it arrives; remembers why it stopped early, because aiohttp writes
    the body in a task of its own and reports only that the exchange failed."""

    def __init__(self, ex: Exchange) -> None:
        self.ex = ex
        self.too_large = False
        self.client_gone = False

    async def chunks(self) -> AsyncIterator[bytes]:
        size = 0
        while True:
            message = await self.ex.receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientGone
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                self.too_large = True
                raise GatewayError(
                    "request_too_large", f"file uploads are limited to {MAX_UPLOAD_BYTES} bytes"
                )
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def failure(self) -> Exception | None:
        if self.too_large:
            return GatewayError(
                "request_too_large", f"file uploads are limited to {MAX_UPLOAD_BYTES} bytes"
            )
        return ClientGone() if self.client_gone else None


async def relay_files(ex: Exchange) -> None:
    ex.authenticate()
    platform = ex.runtime.upstreams.get("platform")
    if platform is None:
        raise GatewayError(
            "not_found", "the Files API needs an Open Platform key (KIMI_API_KEY); none is set"
        )
    method: str = ex.scope["method"]
    raw_path: bytes | None = ex.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else ex.scope["path"]
    url = platform.root + path.removeprefix("/v1")
    query: bytes = ex.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    headers = platform.auth_headers()
    for name in _REQUEST_HEADERS:
        value = header(ex.scope, name)
        if value is not None:
            headers[name.decode()] = value
    upload = _Upload(ex)
    content = upload.chunks() if method in ("POST", "PUT", "PATCH") else None
    try:
        response = await ex.runtime.http.request(
            method,
            URL(url, encoded=True),
            headers=headers,
            data=content,
            allow_redirects=False,
            auto_decompress=False,  # relayed as sent, with its content-encoding
        )
    except (aiohttp.ClientError, TimeoutError, GatewayError, ClientGone) as exc:
        failure = upload.failure()
        if failure is not None:
            raise failure from None
        raise transport_error(exc, platform, ex.runtime.settings.idle_timeout) from None
    try:
        await _answer(ex, response, platform)
    finally:
        response.release()


async def _answer(ex: Exchange, response: aiohttp.ClientResponse, platform: Upstream) -> None:
    if response.status >= 300:
        raw = await response.read()
        error = platform.dialect.parse_error(response.status, raw, response.headers)
        raise explained(error, platform)
    head = [
        (name.encode(), response.headers[name].encode("latin-1"))
        for name in _RESPONSE_HEADERS
        if name in response.headers
    ]
    await start_stream(ex.send, response.status, head)
    ex.started = True
    async for chunk in response.content.iter_any():
        await send_chunk(ex.send, chunk)
    await end_stream(ex.send)
