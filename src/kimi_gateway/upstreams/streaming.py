"""From an upstream HTTP response to an :class:`~kimi_gateway.core.upstream.Opened`: the error
reply parsed in the upstream's dialect, or the SSE body parsed into batches of canonical events
with the first batch already read, or a one-body reply parsed whole.

Shared by every upstream kind that speaks a wire dialect over HTTP; what differs per kind (how
to explain an error, how to fix a host's events) comes in as plain functions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import aiohttp
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError, StreamEvent
from kimi_gateway.core.model import Diagnostic, Response
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.upstream import Batch, Opened
from kimi_gateway.dialects.registry import Dialect, StreamParser
from kimi_gateway.upstreams.http import Response as HttpResponse
from kimi_gateway.upstreams.http import UpstreamHttp, request_id, transport_error

_DRAIN_SECONDS = 1.0
Explain = Callable[[GatewayError], GatewayError]


def _unchanged(error: GatewayError) -> GatewayError:
    return error


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read one upstream's replies."""

    http: UpstreamHttp
    dialect: Dialect
    where: str  # "Kimi upstream api.moonshot.ai": named in transport errors
    upstream: str  # the upstream's name, for Opened
    explain: Explain = _unchanged
    fix_batch: Callable[[Batch], Batch] | None = None  # a host's event fix-ups
    fix_response: Callable[[Response], Response] | None = None


async def error_of(reading: Reading, response: HttpResponse) -> GatewayError:
    """The GatewayError for a non-2xx reply, the upstream's message kept, hint added."""
    try:
        raw = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        raw = b""
    finally:
        response.release()
    return reading.explain(reading.dialect.parse_error(response.status, raw, response.headers))


async def opened(
    reading: Reading,
    response: HttpResponse,
    *,
    model: str,
    streamed: bool,
    diagnostics: tuple[Diagnostic, ...],
    enforce_stop: tuple[str, ...] = (),
) -> Opened:
    """The Opened for ``response``: its head read, and its first batch (or whole body)."""
    if response.status >= 300:
        raise await error_of(reading, response)
    rid = request_id(response)
    if not streamed:
        result = await _whole(reading, response)
        return Opened(
            reading.upstream, model, rid, diagnostics, complete=result, enforce_stop=enforce_stop
        )
    events = _batches(reading, response)
    first = await _first_batch(reading, events, rid)

    async def finish() -> None:
        # aiohttp returns the connection to the pool by itself once the body's end has
        # arrived; only a terminator still on its way needs reading.
        if not response.content.is_eof():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_DRAIN_SECONDS):
                    async for _ in events:
                        pass
        await events.aclose()

    head = (reading.upstream, model, rid, diagnostics)
    return Opened(*head, first, events, None, finish, events.aclose, enforce_stop=enforce_stop)


async def _first_batch(
    reading: Reading, events: AsyncGenerator[Batch, None], rid: str | None
) -> Batch:
    """The first batch of a stream; an empty stream or one that fails at once is an error
    (raised, with the upstream's request id), and the body is released."""
    try:
        first = await anext(events, None)
    except BaseException:
        await events.aclose()
        raise
    head = first[0] if first else None
    if first is None or head is None or isinstance(head, StreamError):
        await events.aclose()
        if isinstance(head, StreamError):
            head.error.upstream_request_id = head.error.upstream_request_id or rid
            raise head.error
        raise GatewayError("server", f"the {reading.where} sent an empty stream")
    return first


async def _whole(reading: Reading, response: HttpResponse) -> Response:
    """A one-body reply, parsed (and fixed up for the host)."""
    raw = await reading.http.read(response, reading.where)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GatewayError("server", f"the {reading.where} sent a reply that is not JSON") from None
    result = reading.dialect.parse_response(body)
    return result if reading.fix_response is None else reading.fix_response(result)


async def _batches(reading: Reading, response: HttpResponse) -> AsyncGenerator[Batch, None]:
    """Canonical events of an SSE body as they arrive, one non-empty list per body read (what
    arrived together is sent on together: one write, not one per event); a broken or stalled
    body ends with StreamError (the parser's own close() reports a stream that stopped early).
    Releasing a response read to its end returns its connection to the pool; otherwise it is
    closed."""
    decoder = SSEDecoder()
    parser: StreamParser = reading.dialect.stream_parser()
    feed = parser.feed
    fix = reading.fix_batch
    try:
        async for chunk in response.content.iter_any():
            batch: list[StreamEvent] = [e for sse in decoder.decode(chunk) for e in feed(sse)]
            if batch:
                yield batch if fix is None else fix(batch)
        batch = [event for sse in decoder.flush() for event in feed(sse)]
        batch.extend(parser.close())
        if batch:
            yield batch if fix is None else fix(batch)
    except aiohttp.ClientError as exc:
        error = transport_error(exc, reading.where, reading.http.timeouts.idle)
        yield [StreamError(reading.explain(error))]
    finally:
        response.release()
