"""POST /v1/chat/completions and POST /v1/messages: the server face of the engine.

read body ─parse (client dialect)─▶ Request ─engine.open─▶ Generation ─render (client dialect)─▶
the client's SSE, one write per upstream read; or, for a non-streaming client, the generation
folded into one Response. Routing, admission and the upstream call are the engine's
(engine/engine.py); here are only the HTTP parts: the body, the headers, the time limit, and a
client that goes away (asgi.DisconnectWatch cancels the upstream call).

Errors before the first byte are answered in the client's dialect; after it, as the dialect's
mid-stream error event.
"""

from __future__ import annotations

import asyncio

import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError
from kimi_gateway.core.model import Diagnostic, Request
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.upstream import CallContext
from kimi_gateway.engine import Generation
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


async def handle_generation(ex: Exchange) -> None:
    """Parse, hand to the engine, answer (streaming or not) in the client's dialect."""
    principal = ex.authenticate()
    request = await _parse(ex)
    record = ex.record
    outcome = record.outcome = Outcome(
        ex.dialect.name, route=record.route, request_id=record.request_id
    )
    runtime = ex.runtime
    deadline = asyncio.get_running_loop().time() + runtime.settings.total_timeout
    ctx = CallContext(deadline, ex.user_agent(), ex.record.request_id)
    watch = DisconnectWatch(ex.receive)
    generation: Generation | None = None
    try:
        async with asyncio.timeout_at(deadline):
            generation = await runtime.engine.open(request, principal, outcome, ctx)
            if not request.stream:
                await _complete(ex, generation, watch)
        if request.stream:
            await _stream(ex, generation, request.include_usage, watch, deadline)
    except TimeoutError:
        if not ex.started:
            await ex.error(_total_timeout(ex))
        outcome.error = outcome.error or "timeout"
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
    body = await ex.json_body()
    if not body.get("model"):
        body["model"] = ex.runtime.settings.default_model
    return ex.dialect.parse_request(body)


def _total_timeout(ex: Exchange) -> GatewayError:
    limit = ex.runtime.settings.total_timeout
    return GatewayError(
        "timeout", f"the request took longer than the gateway's limit of {limit:g} s"
    )


def _reply_headers(
    outcome: Outcome, diagnostics: tuple[Diagnostic, ...]
) -> list[tuple[bytes, bytes]]:
    """Kimi's request id (what Kimi support asks for) and the translation diagnostics."""
    headers: list[tuple[bytes, bytes]] = []
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
    generation: Generation,
    include_usage: bool,
    watch: DisconnectWatch,
    deadline: float,
) -> None:
    renderer = ex.dialect.stream_renderer(include_usage=include_usage)
    headers = _reply_headers(generation.outcome, generation.diagnostics)
    await start_stream(ex.send, 200, [*SSE_HEADERS, *headers])
    render = renderer.render
    send = ex.send
    try:
        async with asyncio.timeout_at(deadline):
            async for batch in generation.batches():
                chunk = b"".join([render(event) for event in batch])
                if chunk:
                    await send_chunk(send, chunk)
    except TimeoutError:
        error = StreamError(_total_timeout(ex))
        generation.outcome.error = "timeout"
        await send_chunk(send, renderer.render(error))
    watch.finish()
    await end_stream(send)
    await generation.finish()


async def _complete(ex: Exchange, generation: Generation, watch: DisconnectWatch) -> None:
    result = await generation.response()
    body = ex.dialect.render_response(result)
    losses = ex.dialect.response_losses(result)
    diagnostics = (*generation.diagnostics, *result.diagnostics, *losses)
    headers = [JSON_TYPE, *_reply_headers(generation.outcome, diagnostics)]
    watch.finish()
    await send_bytes(ex.send, 200, orjson.dumps(body), headers)
    await generation.finish()
