"""POST /v1/chat/completions and POST /v1/messages: the server face of the engine.

read body ─parse (client dialect)─▶ Request ─engine.open─▶ Generation ─render (client dialect)─▶
the client's SSE, one write per upstream read; or, for a non-streaming client, the generation
folded into one Response. Routing, admission and the upstream call are the engine's
(engine/engine.py); here are only the HTTP parts: the body, the headers, the time limit, and a
client that goes away (asgi.DisconnectWatch cancels the upstream call).

Errors before the first byte are answered in the client's dialect; after it, as the dialect's
mid-stream error event.

:func:`serve_generation` is the same path for a face that reads and writes its dialect its own
way (POST /v1/responses, server/responses_create.py): a :class:`Reply` says how to render, what
to await with the whole reply before its last bytes go out (``settle``), and how to open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import Done, StreamError
from kimi_gateway.core.fold import Folder
from kimi_gateway.core.model import Diagnostic, Request, Response
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import Principal
from kimi_gateway.core.records import record
from kimi_gateway.core.upstream import Batch, CallContext
from kimi_gateway.dialects.registry import Dialect, StreamRenderer
from kimi_gateway.server.asgi import (
    JSON_TYPE,
    SSE_HEADERS,
    DisconnectWatch,
    end_stream,
    send_bytes,
    send_chunk,
    start_stream,
)
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.upstreams.kimi import DIAGNOSTICS_HEADER, diagnostics_header

_DIAG_HEADER = DIAGNOSTICS_HEADER.encode()
_KIMI_ID_HEADER = b"x-kimi-request-id"
_SERVED_HEADER = b"x-kimi-gateway-upstream-served"


class Generating(Protocol):
    """What the relay reads: an engine Generation, or a face's chain of them."""

    outcome: Outcome

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]: ...
    def batches(self) -> AsyncIterator[Batch]: ...
    async def response(self) -> Response: ...
    async def finish(self) -> None: ...
    async def close(self, error: str | None = None) -> None: ...


Opener = Callable[[Request, Principal, Outcome, CallContext], Awaitable[Generating]]


@record
class Reply:
    """How one request's generation is written. ``settle`` is awaited with the whole reply
    after a clean end, before the bytes that end it are sent; ``open`` replaces the engine's."""

    renderer: Callable[[], StreamRenderer]
    body: Callable[[Response], dict[str, Any]]
    losses: Callable[[Response], tuple[Diagnostic, ...]]
    settle: Callable[[Response], Awaitable[None]] | None = None
    open: Opener | None = None


def dialect_reply(dialect: Dialect, request: Request) -> Reply:
    """The route's dialect as it is (chat completions, messages), shaped by the request."""
    options = dialect.reply_options(request)
    include_usage = request.include_usage
    return Reply(
        renderer=lambda: dialect.stream_renderer(include_usage=include_usage, **options),
        body=lambda response: dialect.render_response(response, **options),
        losses=lambda response: dialect.response_losses(response, **options),
    )


async def handle_generation(ex: Exchange) -> None:
    """Parse, hand to the engine, answer (streaming or not) in the client's dialect."""
    principal = ex.authenticate()
    request = await _parse(ex)
    await serve_generation(ex, principal, request, dialect_reply(ex.dialect, request))


async def serve_generation(
    ex: Exchange, principal: Principal, request: Request, reply: Reply
) -> None:
    """Open ``request``'s generation and answer with it as ``reply`` says."""
    record = ex.record
    outcome = record.outcome = Outcome(
        ex.dialect.name, route=record.route, request_id=record.request_id
    )
    runtime = ex.runtime
    deadline = asyncio.get_running_loop().time() + runtime.settings.total_timeout
    request_id, key_id = ex.record.request_id, principal.key_id  # the key: per-key limits
    ctx = CallContext(deadline, ex.user_agent(), request_id, key_id, heavy=ex.heavy)
    watch = DisconnectWatch(ex.receive, ex.scope)
    generation: Generating | None = None
    opener: Opener = reply.open or runtime.engine.open
    try:
        async with runtime.drain.bound(deadline):
            generation = await opener(request, principal, outcome, ctx)
            if not request.stream:
                await _complete(ex, generation, reply, watch)
        if request.stream:
            await _stream(ex, generation, reply, watch, deadline)
    except TimeoutError:
        if not ex.started:
            await ex.error(_total_timeout(ex))
        outcome.error = outcome.error or _timeout_kind(ex)
    except asyncio.CancelledError:
        if not watch.disconnected:
            raise
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        outcome.error = "client_closed"
        if not ex.started:
            ex.record.status = 499
    finally:
        watch.finish()
        if generation is not None:
            await generation.close(outcome.error)


async def _parse(ex: Exchange) -> Request:
    default_model = ex.runtime.settings.default_model

    def fill(body: dict[str, Any]) -> None:
        if not body.get("model"):
            body["model"] = default_model

    return await ex.request(fill)


def _timeout_kind(ex: Exchange) -> str:
    return "shutdown" if ex.runtime.drain.ended else "timeout"


def _total_timeout(ex: Exchange) -> GatewayError:
    if ex.runtime.drain.ended:  # the limit that fired was the shutdown's drain deadline
        return ex.runtime.drain.error()
    limit = ex.runtime.settings.total_timeout
    return GatewayError(
        "timeout", f"the request took longer than the gateway's limit of {limit:g} s"
    )


def _reply_headers(
    outcome: Outcome, diagnostics: tuple[Diagnostic, ...]
) -> list[tuple[bytes, bytes]]:
    """Kimi's request id (what Kimi support asks for) and the translation diagnostics."""
    headers: list[tuple[bytes, bytes]] = []
    if outcome.upstream:  # what served it, after any retry or fallback (also in the access log)
        headers.append((_SERVED_HEADER, outcome.upstream.encode("latin-1", "replace")))
    if outcome.upstream_request_id:
        headers.append((_KIMI_ID_HEADER, outcome.upstream_request_id.encode("latin-1", "replace")))
    if diagnostics:
        outcome.diagnostics = diagnostics
        value = diagnostics_header(diagnostics)
        if value:
            headers.append((_DIAG_HEADER, value.encode("ascii", "replace")))
    return headers


async def _stream(
    ex: Exchange,
    generation: Generating,
    reply: Reply,
    watch: DisconnectWatch,
    deadline: float,
) -> None:
    renderer = reply.renderer()
    headers = _reply_headers(generation.outcome, generation.diagnostics)
    await start_stream(ex.send, 200, [*SSE_HEADERS, *headers])
    render = renderer.render
    send = ex.send
    settle = reply.settle
    folder = Folder() if settle is not None else None
    try:
        async with ex.runtime.drain.bound(deadline):
            async for batch in generation.batches():
                chunk = b"".join([render(event) for event in batch])
                if folder is not None and settle is not None:
                    await _settle_batch(folder, batch, settle)
                if chunk:
                    await send_chunk(send, chunk)
    except TimeoutError:
        error = StreamError(_total_timeout(ex))
        generation.outcome.error = _timeout_kind(ex)
        await send_chunk(send, renderer.render(error))
    watch.finish()
    await end_stream(send)
    await generation.finish()


async def _settle_batch(
    folder: Folder, batch: Batch, settle: Callable[[Response], Awaitable[None]]
) -> None:
    """Fold the batch; after a clean end, settle the whole reply (a failed one is not kept)."""
    for event in batch:
        if isinstance(event, StreamError):
            return
        folder.feed(event)
    if isinstance(batch[-1], Done):
        await settle(folder.response())


async def _complete(
    ex: Exchange, generation: Generating, reply: Reply, watch: DisconnectWatch
) -> None:
    result = await generation.response()
    if reply.settle is not None:
        await reply.settle(result)
    body = reply.body(result)
    losses = reply.losses(result)
    diagnostics = (*generation.diagnostics, *result.diagnostics, *losses)
    headers = [JSON_TYPE, *_reply_headers(generation.outcome, diagnostics)]
    watch.finish()
    await send_bytes(ex.send, 200, orjson.dumps(body), headers)
    await generation.finish()
