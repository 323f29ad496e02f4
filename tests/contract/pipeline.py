"""The gateway's translation pipeline without its HTTP server, run through the real engine
against the real emulator.

client wire request (rendered in the client dialect) → client ``parse_request`` → the engine
(``build_engine`` from settings: routing, hooks, the Kimi upstream's quirks and render, an
aiohttp call to the emulator, the upstream dialect's parser) → a Generation → client
``render_response`` / ``StreamRenderer`` as the server face renders it → the bytes a client
would receive, read back with the client dialect's parser (a stream is parsed and folded).

Four pairs: each client dialect in front of each upstream dialect. The OpenAI upstream is the
Open Platform (``/v1/chat/completions``, kimi-k2.6); the Anthropic upstream is Kimi Code's
Anthropic face (``/coding/v1/messages``, kimi-for-coding), the one that checks replayed thinking
signatures (docs/kimi.md §13.3). ``PLATFORM_ANTHROPIC_UPSTREAM`` is the platform's Anthropic
route, used where a test covers both Anthropic faces. The engine runs with ``upstream_stream:
match``, so a non-streaming client gets a non-streaming upstream call (e2e covers ``always``);
the upstream's raw reply is recorded with an aiohttp trace.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, TypeVar

import aiohttp
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError, StreamEvent
from kimi_gateway.core.fold import fold
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import Diagnostic, DialectName, Request, Response
from kimi_gateway.core.outcome import Outcome as CoreOutcome
from kimi_gateway.core.principal import ANONYMOUS
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.upstream import CallContext
from kimi_gateway.dialects import anthropic_messages, openai_chat
from kimi_gateway.dialects.anthropic_messages.response import render_diagnostics
from kimi_gateway.dialects.message_memo import MessageMemo
from kimi_gateway.dialects.openai_chat.losses import response_losses
from kimi_gateway.dialects.registry import DIALECTS as REGISTRY
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.engine import Engine, build_engine
from kimi_gateway.server.request_body import parse_request

from .surfaces import PLATFORM_ANTHROPIC_UPSTREAM, UPSTREAMS, Upstream, settings_for

_T = TypeVar("_T")

DIALECTS: Mapping[str, ModuleType] = {"openai": openai_chat, "anthropic": anthropic_messages}


@dataclass(frozen=True)
class Pair:
    client: str  # "openai" | "anthropic"
    upstream: Upstream

    @property
    def id(self) -> str:
        suffix = "" if self.upstream in UPSTREAMS.values() else "-" + self.upstream.surface.name
        return f"{self.client}-via-{self.upstream.name}{suffix}"

    @property
    def client_dialect_name(self) -> DialectName:
        return "openai_chat" if self.client == "openai" else "anthropic_messages"

    @property
    def client_dialect(self) -> ModuleType:
        return DIALECTS[self.client]

    @property
    def upstream_dialect(self) -> ModuleType:
        return DIALECTS[self.upstream.name]


PAIRS: tuple[Pair, ...] = tuple(Pair(c, u) for c in DIALECTS for u in UPSTREAMS.values())
# The platform's Anthropic route as well, for the tests that run every case on both faces.
ALL_PAIRS: tuple[Pair, ...] = (
    *PAIRS,
    *(Pair(c, PLATFORM_ANTHROPIC_UPSTREAM) for c in DIALECTS),
)


@dataclass(frozen=True)
class Outcome:
    """Everything one request produced, at every boundary."""

    pair: Pair
    stream: bool
    client_request: dict[str, Any]  # the client's wire body
    sent: dict[str, Any]  # the body the emulator logged
    upstream_status: int
    upstream_headers: dict[str, str]
    upstream_raw: bytes
    status: int  # what the client receives
    body: dict[str, Any] | None  # JSON reply or error body (non-stream, or an error)
    sse: bytes | None  # the client's SSE bytes
    response: Response | None  # the client-visible reply read back by the client dialect
    stream_error: GatewayError | None  # a client-visible mid-stream error, read back
    diagnostics: tuple[Diagnostic, ...]  # request side (call) + reply side (parse and render)

    @property
    def diagnostic_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.diagnostics)


def client_wire(pair: Pair, request: Request, stream: bool) -> dict[str, Any]:
    """The conversation as the client would send it: rendered in its dialect, through JSON."""
    chosen = replace(request, model=pair.upstream.model, stream=stream, include_usage=stream)
    wire = pair.client_dialect.render_request(chosen)
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(wire))
    return decoded


class _RecordingReader:
    def __init__(
        self,
        reader: aiohttp.StreamReader,
        raw: dict[str, tuple[int, dict[str, str], list[bytes]]],
        url: str,
    ) -> None:
        self._reader, self._raw, self._url = reader, raw, url

    async def iter_any(self) -> Any:
        async for chunk in self._reader.iter_any():
            self._raw[self._url][2].append(chunk)
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class Runner:
    """An event loop in a thread, one aiohttp session on it, and an engine per upstream face
    of each emulator: what the sync contract tests call the engine through."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.raw: dict[str, tuple[int, dict[str, str], list[bytes]]] = {}
        self.session = self.call(self._session())
        self._engines: dict[tuple[str, str], Engine] = {}

    async def _session(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._on_head)
        trace.on_response_chunk_received.append(self._on_chunk)
        raw = self.raw

        class Recorded(aiohttp.ClientResponse):
            """Records the body chunks a stream reader hands out (aiohttp traces only whole
            ``read()`` bodies)."""

            @property
            def content(self) -> Any:
                return self._recorded

            @content.setter
            def content(self, reader: aiohttp.StreamReader) -> None:
                self._recorded = _RecordingReader(reader, raw, str(self.url))

        return aiohttp.ClientSession(trace_configs=[trace], response_class=Recorded)

    async def _on_head(self, _s: Any, _c: Any, params: aiohttp.TraceRequestEndParams) -> None:
        head: tuple[int, dict[str, str], list[bytes]] = (
            params.response.status,
            dict(params.response.headers),
            [],
        )
        self.raw[str(params.url)] = head

    async def _on_chunk(
        self, _s: Any, _c: Any, params: aiohttp.TraceResponseChunkReceivedParams
    ) -> None:
        self.raw[str(params.url)][2].append(params.chunk)

    def call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def engine(self, server: EmulatorServer, upstream: Upstream) -> Engine:
        key = (server.url, upstream.surface.name)
        if key not in self._engines:
            self._engines[key] = build_engine(settings_for(server, upstream), self.session)
        return self._engines[key]

    def close(self) -> None:
        self.call(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()


# The server's parse with one message memo for every case (issue 15 item 3): each
# conversation's later turns look their earlier messages up, and every expectation still holds.
MEMO: MessageMemo = BytesLRU(64 << 20)


def _no_fill(body: dict[str, Any]) -> None:
    pass


def run(
    server: EmulatorServer, http: Runner, pair: Pair, request: Request, *, stream: bool
) -> Outcome:
    """One request of a conversation through the whole pipeline (the engine posts to Kimi)."""
    wire = client_wire(pair, request, stream)
    dialect = REGISTRY[pair.client_dialect_name]
    parsed = parse_request(orjson.dumps(wire), dialect, _no_fill, 1 << 30, MEMO)
    upstream = pair.upstream
    engine = http.engine(server, upstream)
    url = server.url + upstream.path
    http.raw.pop(url, None)
    result = http.call(_through_engine(engine, pair, parsed))
    status, headers, chunks = http.raw[url]
    logged = server.requests()[-1]
    assert logged["path"] == upstream.path
    head = _Head(pair, stream, wire, logged["body"], status, headers, b"".join(chunks))
    if isinstance(result, GatewayError):
        client_status, body = pair.client_dialect.render_error(result)
        return head.outcome(client_status, body, None, None, None, ())
    generation_diagnostics, reply, sse = result
    if stream:
        assert sse is not None
        return _streamed(head, sse, generation_diagnostics)
    assert reply is not None
    return _completed(head, reply, generation_diagnostics)


_Result = tuple[tuple[Diagnostic, ...], Response | None, bytes | None]


async def _through_engine(engine: Engine, pair: Pair, request: Request) -> _Result | GatewayError:
    """What the server face does with a generation: fold it, or render each batch."""
    outcome = CoreOutcome(pair.client_dialect_name)
    try:
        generation = await engine.open(request, ANONYMOUS, outcome, CallContext())
    except GatewayError as error:
        return error
    try:
        if not request.stream:
            return generation.diagnostics, await generation.response(), None
        renderer = pair.client_dialect.StreamRenderer(include_usage=request.include_usage)
        chunks = [
            b"".join([renderer.render(event) for event in batch])
            async for batch in generation.batches()
        ]
        await generation.finish()
        return generation.diagnostics, None, b"".join(chunks)
    except GatewayError as error:
        return error
    finally:
        await generation.close()


@dataclass(frozen=True)
class _Head:
    pair: Pair
    stream: bool
    wire: dict[str, Any]
    sent: dict[str, Any]
    upstream_status: int
    headers: dict[str, str]
    raw: bytes

    def outcome(
        self,
        status: int,
        body: dict[str, Any] | None,
        sse: bytes | None,
        response: Response | None,
        stream_error: GatewayError | None,
        diagnostics: tuple[Diagnostic, ...],
    ) -> Outcome:
        return Outcome(
            self.pair,
            self.stream,
            self.wire,
            self.sent,
            self.upstream_status,
            self.headers,
            self.raw,
            status,
            body,
            sse,
            response,
            stream_error,
            diagnostics,
        )


def _completed(head: _Head, reply: Response, request_side: tuple[Diagnostic, ...]) -> Outcome:
    pair = head.pair
    body = pair.client_dialect.render_response(reply)
    body = orjson.loads(orjson.dumps(body))
    seen = pair.client_dialect.parse_response(body)
    diagnostics = (*request_side, *reply.diagnostics, *render_losses(pair, reply))
    return head.outcome(200, body, None, seen, None, diagnostics)


def render_losses(pair: Pair, reply: Response) -> tuple[Diagnostic, ...]:
    """What rendering ``reply`` to the client drops, as the client dialect reports it."""
    if pair.client == "openai":
        return response_losses(reply)
    return render_diagnostics(reply)


def upstream_events(pair: Pair, raw: bytes) -> list[StreamEvent]:
    """The upstream's SSE bytes as canonical events, as the server would see them arrive."""
    return parse_sse(pair.upstream_dialect, raw)


def parse_sse(dialect: ModuleType, raw: bytes) -> list[StreamEvent]:
    decoder, parser = SSEDecoder(), dialect.StreamParser()
    events: list[StreamEvent] = []
    for sse in decoder.decode(raw) + decoder.flush():
        events += parser.feed(sse)
    events += parser.close()
    return events


def _streamed(head: _Head, sse: bytes, request_side: tuple[Diagnostic, ...]) -> Outcome:
    pair = head.pair
    events = upstream_events(pair, head.raw)
    seen_events = parse_sse(pair.client_dialect, sse)
    failure = next((e.error for e in seen_events if isinstance(e, StreamError)), None)
    response = None if failure is not None else fold(seen_events)
    upstream_failed = any(isinstance(e, StreamError) for e in events)
    reply = None if upstream_failed else fold(events)
    losses = () if reply is None else render_losses(pair, reply)
    diagnostics = (*request_side, *losses)
    return head.outcome(200, None, sse, response, failure, diagnostics)
