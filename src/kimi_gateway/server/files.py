"""``/v1/files…`` relayed to an upstream's Files API (the Open Platform's, docs/kimi.md §9), each
gateway key seeing only the files it uploaded.

Only ``/v1/files`` (GET list, POST upload), ``/v1/files/{id}`` (GET, DELETE) and
``/v1/files/{id}/content`` (GET) are served. The path is parsed from the raw, undecoded request
path (core/file_paths.py) and the upstream URL is built from its parts: ``..``, ``%2e%2e/`` or
``..%2f`` never reach Kimi with the operator's key (issue 10 item 2).

Files belong to the key that uploaded them (ledger/file_owners.py; issue 10 item 3): a list is
filtered to the caller's files, and another key's file, or one with no owner, is a 404 exactly
like a missing one. The master key sees and may delete every file. Uploads and downloads stream
both ways; an upload's reply and a list are read whole (small JSON) to record or filter them.
Without an upstream that has a Files API (Kimi Code only): 404 saying so. An upload whose OpenAI
purpose Kimi does not have went under one of Kimi's (upstreams/kimi/file_purpose.py): the reply
says so in ``x-kimi-gateway-diagnostics`` and the access log has the same diagnostic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.file_paths import FilePath, clean_query, parse_file_path
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import Principal
from kimi_gateway.core.upstream import CallContext, FileReply, FilesAPI
from kimi_gateway.ledger.file_owners import ANONYMOUS_OWNER, FileOwners
from kimi_gateway.server.asgi import (
    BODY_TIMED_OUT,
    ClientGone,
    end_stream,
    header,
    send_bytes,
    send_chunk,
    start_stream,
)
from kimi_gateway.server.exchange import Exchange, body_timeout
from kimi_gateway.upstreams.kimi import DIAGNOSTICS_HEADER, diagnostics_header

# §9 [O]: 100 MB per file; the multipart envelope adds a little.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024 + 1024 * 1024
_REQUEST_HEADERS = (b"content-type", b"content-length", b"accept")
_COLLECTION = "/v1/files"
# What each kind of path allows: the collection, one file, one file's content.
_METHODS = {"collection": ("GET", "POST"), "file": ("DELETE", "GET"), "content": ("GET",)}


class _Upload:
    """The client's body as it arrives; remembers why it stopped early, because aiohttp writes
    the body in a task of its own and reports only that the exchange failed."""

    def __init__(self, ex: Exchange) -> None:
        self.ex = ex
        self.too_large = False
        self.client_gone = False
        self.timed_out = False

    async def chunks(self) -> AsyncIterator[bytes]:
        size = 0
        while True:
            message = await self.ex.receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientGone
            if BODY_TIMED_OUT in self.ex.scope:
                self.timed_out = True
                raise body_timeout()
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
        if self.timed_out:
            return body_timeout()
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


def requested_path(ex: Exchange) -> FilePath:
    """The Files API path of this request, from the raw path (percent escapes undecoded)."""
    raw: bytes | None = ex.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else str(ex.scope["path"])
    # The app routes only /v1/files and /v1/files/… here; anything else is not a files path.
    suffix = path.removeprefix(_COLLECTION) if path.startswith(_COLLECTION) else "/"
    return parse_file_path(suffix)


def _disallowed(ex: Exchange, target: FilePath) -> str | None:
    """The methods ``target`` allows, when the request's is not one of them."""
    kind = "collection" if target.file_id is None else "content" if target.content else "file"
    allowed = _METHODS[kind]
    return None if ex.scope["method"] in allowed else ", ".join(allowed)


def _owners(ex: Exchange) -> FileOwners:
    owners = ex.runtime.file_owners
    if owners is None:  # built with the runtime; absent only if start-up failed half way
        raise GatewayError("unavailable", "the gateway's file records are not open")
    return owners


def owner_of(principal: Principal) -> str | None:
    """The owner id files are recorded under; None for the master key (it sees every file)."""
    if principal.admin:
        return None
    return principal.key_id or ANONYMOUS_OWNER


async def relay_files(ex: Exchange) -> None:
    principal = ex.authenticate(master=True)
    files = files_api(ex)
    target = requested_path(ex)
    allowed = _disallowed(ex, target)
    if allowed is not None:
        error = GatewayError("invalid_request", f"{ex.scope['method']} is not allowed here")
        await ex.error(error, [(b"allow", allowed.encode())], status=405)
        return
    owner = owner_of(principal)
    owners = _owners(ex)
    if target.file_id is not None and owner is not None:
        recorded = await asyncio.to_thread(owners.owner, target.file_id)
        if recorded != owner:
            raise _not_found(target.file_id)
    method: str = ex.scope["method"]
    reads_json = method == "POST" or (target.file_id is None and owner is not None)
    reply = await _call(ex, files, target, reads_json)
    try:
        if reply.status < 300 and method == "POST":
            await _send_upload(ex, reply, owner)
        elif reply.status < 300 and reads_json:
            await _send_list(ex, reply, owner or "")
        else:
            if reply.status < 300 and method == "DELETE" and target.file_id is not None:
                await asyncio.to_thread(owners.forget, target.file_id)
            await _stream_reply(ex, reply)
    finally:
        reply.release()


async def _call(ex: Exchange, files: FilesAPI, target: FilePath, reads_json: bool) -> FileReply:
    """The upstream call for ``target``; ``reads_json``: the reply is read here, so ask for it
    unencoded (the relay passes bodies through as they come, compression included)."""
    method: str = ex.scope["method"]
    query = clean_query(ex.scope.get("query_string", b"").decode("latin-1"))
    headers = {}
    for name in _REQUEST_HEADERS:
        value = header(ex.scope, name)
        if value is not None:
            headers[name.decode()] = value
    if reads_json:
        headers["accept-encoding"] = "identity"
    upload = _Upload(ex)
    content = upload.chunks() if method == "POST" else None
    deadline = asyncio.get_running_loop().time() + ex.runtime.settings.total_timeout
    ctx = CallContext(deadline, None, ex.record.request_id)
    try:
        return await files.relay(method, target.suffix(), query, headers, content, ctx)
    except (GatewayError, ClientGone) as exc:
        raise (upload.failure() or exc) from None


async def _read_json(reply: FileReply) -> dict[str, object]:
    encoding = reply.headers.get("content-encoding", "identity").lower()
    body = b"".join([chunk async for chunk in reply.body])
    try:
        if encoding != "identity":
            raise ValueError(encoding)
        parsed = orjson.loads(body)
    except ValueError:
        raise GatewayError("server", "the upstream's Files API sent an unreadable reply") from None
    if not isinstance(parsed, dict):
        raise GatewayError("server", "the upstream's Files API sent an unreadable reply")
    return parsed


async def _send_upload(ex: Exchange, reply: FileReply, owner: str | None) -> None:
    """The upload's FileObject, after its owner is recorded (the master key's uploads are
    recorded as the master's: other keys do not see them)."""
    created = await _read_json(reply)
    file_id = created.get("id")
    if isinstance(file_id, str):
        await asyncio.to_thread(_owners(ex).record, file_id, owner or "master")
    extra: list[tuple[bytes, bytes]] = []
    if reply.diagnostics:
        ex.record.outcome = Outcome("openai_chat", diagnostics=reply.diagnostics)
        extra.append((DIAGNOSTICS_HEADER.encode(), diagnostics_header(reply.diagnostics).encode()))
    await _send_json(ex, reply, created, extra)


async def _send_list(ex: Exchange, reply: FileReply, owner: str) -> None:
    listed = await _read_json(reply)
    data = listed.get("data")
    items = [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []
    ids = [str(item.get("id")) for item in items]
    mine = await asyncio.to_thread(_owners(ex).owned, owner, ids)
    await _send_json(ex, reply, {**listed, "data": [i for i in items if i.get("id") in mine]})


async def _send_json(
    ex: Exchange, reply: FileReply, body: object, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    head = [(b"content-type", b"application/json"), *(extra or ())]
    await send_bytes(ex.send, reply.status, orjson.dumps(body), head)


async def _stream_reply(ex: Exchange, reply: FileReply) -> None:
    head = [(name.encode(), value.encode("latin-1")) for name, value in reply.headers.items()]
    await start_stream(ex.send, reply.status, head)
    async for chunk in reply.body:
        await send_chunk(ex.send, chunk)
    await end_stream(ex.send)


def _not_found(file_id: str) -> GatewayError:
    """Another key's file must look like a missing one: the 404 the emulator gives for an
    unknown id (modelled on Kimi's model 404, emulator/files_store.py; Kimi's own wording for
    files is not documented, docs/kimi.md §9)."""
    return GatewayError(
        "not_found",
        f"Not found the file {file_id} or Permission denied",
        status=404,
        upstream_type="resource_not_found_error",
    )
