"""``/v1/files…`` relayed to an upstream's Files API (the Open Platform's, docs/kimi.md §9),
bytes streamed both ways: a multipart upload goes out as it comes in, a download comes back as
it arrives. The upstream call itself is the upstream's (upstreams/kimi/files.py); here is only
the client side: its body, its headers, and errors re-rendered in OpenAI's shape. Without an
upstream that has a Files API (Kimi Code only) there is none: 404 saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.upstream import CallContext, FilesAPI
from kimi_gateway.server.asgi import ClientGone, end_stream, header, send_chunk, start_stream
from kimi_gateway.server.exchange import Exchange

# §9 [O]: 100 MB per file; the multipart envelope adds a little.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024 + 1024 * 1024
_REQUEST_HEADERS = (b"content-type", b"content-length", b"accept")


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
                raise _too_large()
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def failure(self) -> Exception | None:
        if self.too_large:
            return _too_large()
        return ClientGone() if self.client_gone else None


def _too_large() -> GatewayError:
    return GatewayError(
        "request_too_large", f"file uploads are limited to {MAX_UPLOAD_BYTES} bytes"
    )


def files_api(ex: Exchange) -> FilesAPI:
    for upstream in ex.runtime.upstreams.values():
        if upstream.files is not None:
            return upstream.files
    raise GatewayError(
        "not_found", "the Files API needs an Open Platform key (KIMI_API_KEY); none is set"
    )


async def relay_files(ex: Exchange) -> None:
    ex.authenticate(master=True)
    files = files_api(ex)
    method: str = ex.scope["method"]
    raw_path: bytes | None = ex.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else ex.scope["path"]
    query: bytes = ex.scope.get("query_string", b"")
    headers = {}
    for name in _REQUEST_HEADERS:
        value = header(ex.scope, name)
        if value is not None:
            headers[name.decode()] = value
    upload = _Upload(ex)
    content = upload.chunks() if method in ("POST", "PUT", "PATCH") else None
    deadline = asyncio.get_running_loop().time() + ex.runtime.settings.total_timeout
    ctx = CallContext(deadline, None, ex.record.request_id)
    try:
        reply = await files.relay(
            method, path.removeprefix("/v1/files"), query.decode("latin-1"), headers, content, ctx
        )
    except (GatewayError, ClientGone) as exc:
        failure = upload.failure()
        if failure is not None:
            raise failure from None
        raise exc from None
    try:
        head = [(name.encode(), value.encode("latin-1")) for name, value in reply.headers.items()]
        await start_stream(ex.send, reply.status, head)
        async for chunk in reply.body:
            await send_chunk(ex.send, chunk)
        await end_stream(ex.send)
    finally:
        reply.release()
