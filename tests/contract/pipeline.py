"""The gateway's translation pipeline without its HTTP server, run against the real emulator.

client wire request (rendered in the client dialect) → client ``parse_request`` →
``build_upstream_request`` (quirks, upstream render, wire fix-ups) → POST to the emulator at the
surface's path with httpx → upstream ``parse_response`` / ``StreamParser`` (over ``SSEDecoder``)
→ client ``render_response`` / ``StreamRenderer`` → the bytes a client would receive, read back
with the client dialect's parser (a stream is parsed and folded).

Four pairs: each client dialect in front of each upstream dialect. The OpenAI upstream is the
Open Platform (``/v1/chat/completions``, kimi-k2.6); the Anthropic upstream is Kimi Code's
Anthropic face (``/coding/v1/messages``, kimi-for-coding), the one that checks replayed thinking
signatures (kimi-api.md §13.3). ``PLATFORM_ANTHROPIC_UPSTREAM`` is the platform's Anthropic route,
used where a test covers both Anthropic faces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import httpx
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError, StreamEvent
from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import Diagnostic, Request, Response
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.dialects import anthropic_messages, openai_chat
from kimi_gateway.dialects.anthropic_messages.response import render_diagnostics
from kimi_gateway.dialects.openai_chat.losses import response_losses
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    PLATFORM_ANTHROPIC,
    PLATFORM_GLOBAL,
    KimiSurface,
    QuirkPolicy,
    UpstreamCall,
    build_upstream_request,
    profile_for,
)

DIALECTS: Mapping[str, ModuleType] = {"openai": openai_chat, "anthropic": anthropic_messages}


@dataclass(frozen=True)
class Upstream:
    """One Kimi surface of the emulator, with the model the cases use there."""

    name: str  # the dialect: "openai" | "anthropic"
    surface: KimiSurface
    prefix: str  # where the surface's base URL sits on the emulator
    model: str
    reported_model: str  # what the surface names in its replies
    key: str

    @property
    def path(self) -> str:
        return self.prefix + self.surface.path

    def on(self, server: EmulatorServer) -> KimiSurface:
        return self.surface.with_base_url(server.url + self.prefix)


OPENAI_UPSTREAM = Upstream(
    "openai", PLATFORM_GLOBAL, "/v1", "kimi-k2.6", "kimi-k2.6", "sk-test-contract"
)
ANTHROPIC_UPSTREAM = Upstream(
    "anthropic",
    KIMI_CODE_ANTHROPIC,
    "/coding",
    "kimi-for-coding",
    "kimi-for-coding",  # §13.1: Kimi Code reports this name whatever known name was sent
    "sk-kimi-contract",
)
PLATFORM_ANTHROPIC_UPSTREAM = Upstream(
    "anthropic", PLATFORM_ANTHROPIC, "/anthropic", "kimi-k2.6", "kimi-k2.6", "sk-test-contract"
)
UPSTREAMS: Mapping[str, Upstream] = {"openai": OPENAI_UPSTREAM, "anthropic": ANTHROPIC_UPSTREAM}


@dataclass(frozen=True)
class Pair:
    client: str  # "openai" | "anthropic"
    upstream: Upstream

    @property
    def id(self) -> str:
        suffix = "" if self.upstream in UPSTREAMS.values() else "-" + self.upstream.surface.name
        return f"{self.client}-via-{self.upstream.name}{suffix}"

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
    call: UpstreamCall  # what build_upstream_request made
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


def run(
    server: EmulatorServer, http: httpx.Client, pair: Pair, request: Request, *, stream: bool
) -> Outcome:
    """One request of a conversation through the whole pipeline (``http`` posts to Kimi)."""
    wire = client_wire(pair, request, stream)
    parsed = pair.client_dialect.parse_request(wire)
    upstream = pair.upstream
    surface = upstream.on(server)
    profile = profile_for(parsed.model, product=surface.product)
    call = build_upstream_request(parsed, surface, profile, QuirkPolicy())
    assert call.url == server.url + upstream.path
    status, headers, raw = _post(http, call, upstream.key)
    logged = server.requests()[-1]
    assert (logged["path"], logged["body"]) == (upstream.path, call.body)
    head = _Head(pair, stream, wire, call, logged["body"], status, headers, raw)
    if status != 200:
        error = pair.upstream_dialect.parse_error(status, raw, headers)
        client_status, body = pair.client_dialect.render_error(error)
        return head.outcome(client_status, body, None, None, None, call.diagnostics)
    if stream:
        return _streamed(head)
    return _completed(head)


@dataclass(frozen=True)
class _Head:
    pair: Pair
    stream: bool
    wire: dict[str, Any]
    call: UpstreamCall
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
            self.call,
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


def _post(http: httpx.Client, call: UpstreamCall, key: str) -> tuple[int, dict[str, str], bytes]:
    """POST and read to the end; a dropped connection (``@@cut@@``) ends the body early."""
    chunks: list[bytes] = []
    headers = call.headers_with_key(key)
    with http.stream("POST", call.url, content=orjson.dumps(call.body), headers=headers) as r:
        try:
            for chunk in r.iter_bytes():
                chunks.append(chunk)
        except httpx.RemoteProtocolError:
            pass  # the upstream dropped the line: the stream parser reports it at close
        return r.status_code, dict(r.headers), b"".join(chunks)


def _completed(head: _Head) -> Outcome:
    pair = head.pair
    reply = pair.upstream_dialect.parse_response(orjson.loads(head.raw))
    body = pair.client_dialect.render_response(reply)
    body = orjson.loads(orjson.dumps(body))
    seen = pair.client_dialect.parse_response(body)
    diagnostics = (*head.call.diagnostics, *reply.diagnostics, *render_losses(pair, reply))
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
    return events + parser.close()


def _streamed(head: _Head) -> Outcome:
    pair = head.pair
    events = upstream_events(pair, head.raw)
    renderer = pair.client_dialect.StreamRenderer(include_usage=True)
    sse = b"".join(renderer.render(event) for event in events)
    seen_events = parse_sse(pair.client_dialect, sse)
    failure = next((e.error for e in seen_events if isinstance(e, StreamError)), None)
    response = None if failure is not None else fold(seen_events)
    upstream_failed = any(isinstance(e, StreamError) for e in events)
    reply = None if upstream_failed else fold(events)
    losses = () if reply is None else render_losses(pair, reply)
    diagnostics = (*head.call.diagnostics, *losses)
    return head.outcome(200, None, sse, response, failure, diagnostics)
