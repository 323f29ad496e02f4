"""``/v1/files…`` relayed to the Open Platform's Files API (kimi-api.md §9), bytes streamed
both ways: a multipart upload goes out as it comes in, a download comes back as it arrives.

Only the platform key is added; the client's own auth headers never go upstream. Errors are
re-rendered in OpenAI's shape (the platform's own, but an HTML 404/504 page becomes JSON too).
Without an Open Platform key (Kimi Code only) there is no Files API: 404 saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.server.asgi import end_stream, header, send_chunk, start_stream
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.upstream_call import explained, transport_error

# §9 [O]: 100 MB per file; the multipart envelope adds a little.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024 + 1024 * 1024
_REQUEST_HEADERS = (b"content-type", b"content-length", b"accept")
_RESPONSE_HEADERS = ("content-type", "content-length", "content-disposition", "content-encoding")


class _UploadTooLarge(Exception):
    pass


async def relay_files(ex: Exchange) -> None:
    ex.authenticate()
    platform = ex.runtime.upstreams.get("platform")
    if platform is None:
        raise GatewayError(
            "not_found", "the Files API needs an Open Platform key (KIMI_API_KEY); none is set"
        )
    method: str = ex.scope["method"]
    url = platform.root + ex.scope["path"].removeprefix("/v1")
    query: bytes = ex.scope.get("query_string", b"")
    headers = platform.auth_headers()
    for name in _REQUEST_HEADERS:
        value = header(ex.scope, name)
        if value is not None:
            headers[name.decode()] = value
    content = _upload(ex) if method in ("POST", "PUT", "PATCH") else None
    request = ex.runtime.http.build_request(
        method, url, params=query.decode("latin-1") or None, headers=headers, content=content
    )
    try:
        response = await ex.runtime.http.send(request, stream=True)
    except _UploadTooLarge:
        raise GatewayError(
            "request_too_large", f"file uploads are limited to {MAX_UPLOAD_BYTES} bytes"
        ) from None
    except httpx.HTTPError as exc:
        raise transport_error(exc, platform, ex.runtime.settings.idle_timeout) from None
    try:
        if response.status_code >= 300:
            raw = await response.aread()
            error = platform.dialect.parse_error(response.status_code, raw, response.headers)
            raise explained(error, platform)
        head = [
            (name.encode(), response.headers[name].encode("latin-1"))
            for name in _RESPONSE_HEADERS
            if name in response.headers
        ]
        await start_stream(ex.send, response.status_code, head)
        ex.started = True
        async for chunk in response.aiter_raw():
            await send_chunk(ex.send, chunk)
        await end_stream(ex.send)
    finally:
        await response.aclose()


async def _upload(ex: Exchange) -> AsyncIterator[bytes]:
    size = 0
    while True:
        message = await ex.receive()
        if message["type"] == "http.disconnect":
            raise httpx.ReadError("the client went away during the upload")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _UploadTooLarge
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
