"""POST /v1/chat/completions and POST /v1/messages: the gateway's hot path.

client body ─parse (client dialect)─▶ Request ─route─▶ Target ─quirks+render (adapter)─▶ Kimi
Kimi SSE ─parse (upstream dialect)─▶ events ─render (client dialect)─▶ client SSE, each event as
it arrives; or, for a non-streaming client, the events folded into one Response (core/fold.py).
With ``upstream_stream: match`` a non-streaming client gets a non-streaming upstream call.

The same-dialect pair goes the same way (through the quirk layer, never raw) — one path, so the
two cannot disagree. Errors before the first byte are answered in the client's dialect; after
it, as the dialect's mid-stream error event. A client that disconnects cancels the upstream
call (asgi.DisconnectWatch).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator

import aiohttp
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import (
    Done,
    MessageStart,
    StreamError,
    StreamEvent,
    UsageReport,
)
from kimi_gateway.core.fold import Folder
from kimi_gateway.core.model import Diagnostic, Request
from kimi_gateway.core.usage import Usage
from kimi_gateway.server.asgi import (
    JSON_TYPE,
    SSE_HEADERS,
    DisconnectWatch,
    end_stream,
    send_bytes,
    send_chunk,
    start_stream,
)
from kimi_gateway.server.dialects import StreamRenderer
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.routing import Target
from kimi_gateway.server.upstream_call import (
    Response,
    open_call,
    stream_events,
    transport_error,
    upstream_error,
)
from kimi_gateway.upstreams.kimi import (
    DIAGNOSTICS_HEADER,
    UpstreamCall,
    build_upstream_request,
    diagnostics_header,
    profile_for,
)

_DIAG_HEADER = DIAGNOSTICS_HEADER.encode()
_KIMI_ID_HEADER = b"x-kimi-request-id"
_DRAIN_SECONDS = 1.0


@dataclasses.dataclass(slots=True)
class _Plan:
    request: Request  # as the client sent it (parsed)
    target: Target
    call: UpstreamCall
    reported_model: str
    diagnostics: tuple[Diagnostic, ...]


async def handle_generation(ex: Exchange) -> None:
    """Parse, authorise, route, call Kimi, answer (streaming or not) in the client's dialect."""
    plan = await _plan(ex)
    deadline = asyncio.get_running_loop().time() + ex.runtime.settings.total_timeout
    watch = DisconnectWatch(ex.receive)
    try:
        if plan.request.stream:
            await _stream(ex, plan, watch, deadline)
        else:
            async with asyncio.timeout_at(deadline):
                await _complete(ex, plan, watch)
    except TimeoutError:
        if not ex.started:
            await ex.error(_total_timeout(ex))
    except asyncio.CancelledError:
        if not watch.disconnected:
            raise
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        ex.record.error = "client_closed"
        if not ex.started:
            ex.record.status = 499
    finally:
        watch.finish()


def _total_timeout(ex: Exchange) -> GatewayError:
    limit = ex.runtime.settings.total_timeout
    return GatewayError(
        "timeout", f"the request took longer than the gateway's limit of {limit:g} s"
    )


async def _plan(ex: Exchange) -> _Plan:
    runtime = ex.runtime
    principal = ex.authenticate()
    body = await ex.json_body()
    if not body.get("model"):
        body["model"] = runtime.settings.default_model
    request = ex.dialect.parse_request(body)
    ex.record.model, ex.record.stream = request.model, request.stream
    if len(request.tools) > runtime.settings.max_tools:
        raise GatewayError(
            "invalid_request",
            f"too many tools: {len(request.tools)} (this gateway's limit is "
            f"{runtime.settings.max_tools})",
            param="tools",
        )
    target = runtime.router.resolve(request.model, ex.dialect.name)
    ex.record.upstream, ex.record.upstream_model = target.upstream.name, target.model
    if not principal.allows(request.model, target.model):
        raise GatewayError(
            "permission", f"this gateway key may not use the model {request.model!r}"
        )
    stream_upstream = request.stream or runtime.settings.upstream_stream == "always"
    outgoing = dataclasses.replace(
        request,
        model=target.model,
        stream=stream_upstream,
        include_usage=stream_upstream or request.include_usage,
    )
    profile = profile_for(target.model, product=target.upstream.product)
    call = build_upstream_request(outgoing, target.upstream.surface, profile, runtime.policy)
    reported = request.model if runtime.settings.report_model == "requested" else target.model
    return _Plan(request, target, call, reported, call.diagnostics)


def _reply_headers(ex: Exchange, diagnostics: tuple[Diagnostic, ...]) -> list[tuple[bytes, bytes]]:
    """Kimi's request id (what Kimi support asks for) and the translation diagnostics."""
    headers: list[tuple[bytes, bytes]] = []
    if ex.record.upstream_request_id:
        headers.append(
            (_KIMI_ID_HEADER, ex.record.upstream_request_id.encode("latin-1", "replace"))
        )
    if diagnostics:
        ex.record.diagnostics = [f"{d.code}: {d.detail}" for d in diagnostics]
        value = diagnostics_header(diagnostics)
        if value:
            headers.append((_DIAG_HEADER, value.encode("ascii", "replace")))
    return headers


async def _open(ex: Exchange, plan: _Plan) -> Response:
    settings = ex.runtime.settings
    response = await open_call(
        ex.runtime.http,
        plan.call,
        plan.target.upstream,
        user_agent=ex.user_agent(),
        first_byte_timeout=settings.first_byte_timeout,
        idle_timeout=settings.idle_timeout,
    )
    if response.status >= 300:
        raise await upstream_error(response, plan.target.upstream)
    headers = response.headers
    ex.record.upstream_request_id = headers.get("msh-request-id") or headers.get("x-trace-id")
    return response


Batches = AsyncGenerator[list[StreamEvent], None]


def _events(ex: Exchange, plan: _Plan, response: Response) -> Batches:
    upstream = plan.target.upstream
    parser = upstream.dialect.stream_parser()
    return stream_events(response, parser, upstream, ex.runtime.settings.idle_timeout)


async def _stream(ex: Exchange, plan: _Plan, watch: DisconnectWatch, deadline: float) -> None:
    async with asyncio.timeout_at(deadline):
        response = await _open(ex, plan)
        events = _events(ex, plan, response)
        try:
            first = await anext(events, None)
        except BaseException:
            await events.aclose()
            raise
    head = first[0] if first else None
    if head is None or isinstance(head, StreamError):
        await events.aclose()
        raise head.error if head is not None else GatewayError("server", "empty Kimi stream")
    assert first is not None
    renderer = ex.dialect.stream_renderer(include_usage=plan.request.include_usage)
    await start_stream(ex.send, 200, [*SSE_HEADERS, *_reply_headers(ex, plan.diagnostics)])
    ex.started = True
    try:
        clean = False
        try:
            async with asyncio.timeout_at(deadline):
                clean = await _forward(ex, plan, renderer, first, events)
        except TimeoutError:
            await _send_event(ex, renderer, StreamError(_total_timeout(ex)))
        watch.finish()
        await end_stream(ex.send)
        # aiohttp returns the connection to the pool by itself once the body's end has
        # arrived; only a terminator still on its way needs reading.
        if clean and not response.content.is_eof():
            await _drain(events)
    finally:
        await events.aclose()


async def _drain(events: Batches) -> None:
    """Read what follows the last event (the chunked body's terminator) after the client has
    its reply, so the upstream connection goes back to the pool instead of being closed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in events:
                pass


async def _forward(
    ex: Exchange,
    plan: _Plan,
    renderer: StreamRenderer,
    first: list[StreamEvent],
    events: Batches,
) -> bool:
    """Render each batch of events as it arrives and send it as one chunk; True when the
    stream ended with Done. The usage seen goes to the access record."""
    usage = [Usage()]
    batch: list[StreamEvent] | None = first
    try:
        while batch is not None:
            chunk, ended = _render_batch(ex, plan, renderer, batch, usage)
            if chunk:
                await send_chunk(ex.send, chunk)
            if ended is not None:
                return ended
            batch = await anext(events, None)
        # The parser's close() reports an early end itself; this covers a parser that did not.
        await _send_event(
            ex, renderer, StreamError(GatewayError("server", "Kimi's stream ended early"))
        )
        return False
    finally:
        _record_usage(ex, usage[0])


def _render_batch(
    ex: Exchange,
    plan: _Plan,
    renderer: StreamRenderer,
    batch: list[StreamEvent],
    usage: list[Usage],
) -> tuple[bytes, bool | None]:
    """The client's bytes for ``batch``, and whether it ended the stream: True with Done,
    False with StreamError, None if it goes on. ``usage[0]`` accumulates the usage seen."""
    out: list[bytes] = []
    for event in batch:
        if isinstance(event, MessageStart):
            # Anthropic upstreams send no creation time; OpenAI clients expect one.
            created = event.created if event.created is not None else int(time.time())
            event = MessageStart(event.id, plan.reported_model, created)
        elif isinstance(event, UsageReport):
            usage[0] = usage[0].merge(event.usage)
        elif isinstance(event, StreamError):
            ex.record.error = event.error.kind
        chunk = renderer.render(event)
        if chunk:
            out.append(chunk)
        if isinstance(event, StreamError | Done):
            return b"".join(out), isinstance(event, Done)
    return b"".join(out), None


async def _send_event(ex: Exchange, renderer: StreamRenderer, event: StreamEvent) -> None:
    if isinstance(event, StreamError):
        ex.record.error = event.error.kind
    chunk = renderer.render(event)
    if chunk:
        await send_chunk(ex.send, chunk)


async def _complete(ex: Exchange, plan: _Plan, watch: DisconnectWatch) -> None:
    response = await _open(ex, plan)
    if plan.call.body.get("stream"):
        folder = Folder()
        async with contextlib.aclosing(_events(ex, plan, response)) as batches:
            async for batch in batches:
                for event in batch:
                    folder.feed(event)  # a StreamError raises its GatewayError here
        result = folder.response()
    else:
        try:
            raw = await response.read()
        except aiohttp.ClientError as exc:
            raise transport_error(
                exc, plan.target.upstream, ex.runtime.settings.idle_timeout
            ) from None
        finally:
            response.release()
        result = plan.target.upstream.dialect.parse_response(orjson.loads(raw))
    created = result.created if result.created is not None else int(time.time())
    result = dataclasses.replace(result, model=plan.reported_model, created=created)
    _record_usage(ex, result.usage)
    body = ex.dialect.render_response(result)
    losses = ex.dialect.response_losses(result)
    headers = [JSON_TYPE, *_reply_headers(ex, (*plan.diagnostics, *result.diagnostics, *losses))]
    watch.finish()
    ex.started = True
    await send_bytes(ex.send, 200, orjson.dumps(body), headers)


def _record_usage(ex: Exchange, usage: Usage) -> None:
    ex.record.input_tokens = usage.input_total
    ex.record.cached_tokens = usage.input_cache_read
    ex.record.output_tokens = usage.output
