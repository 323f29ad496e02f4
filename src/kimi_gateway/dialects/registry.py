"""The dialects as values: a route or an upstream carries "its" dialect as data, not ``if``s.

Each dialect package exports the same names (translation contract); :class:`Dialect` bundles
them. This module sits beside the dialect packages, which do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamEvent
from kimi_gateway.core.model import Diagnostic, DialectName, Request, Response
from kimi_gateway.core.sse import SSEEvent
from kimi_gateway.dialects import anthropic_messages, openai_chat, openai_responses
from kimi_gateway.dialects.anthropic_messages.response import render_diagnostics
from kimi_gateway.dialects.openai_chat.losses import response_losses
from kimi_gateway.dialects.openai_responses import losses as responses_losses


class StreamParser(Protocol):
    def feed(self, event: SSEEvent) -> list[StreamEvent]: ...
    def close(self) -> list[StreamEvent]: ...


class StreamRenderer(Protocol):
    def render(self, event: StreamEvent) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    name: DialectName
    parse_request: Callable[[Mapping[str, Any]], Request]
    render_request: Callable[[Request], dict[str, Any]]
    parse_response: Callable[[Mapping[str, Any]], Response]
    render_response: Callable[..., dict[str, Any]]  # (response, **reply_options(request))
    stream_parser: Callable[[], StreamParser]
    stream_renderer: Callable[..., StreamRenderer]
    parse_error: Callable[[int, bytes, Mapping[str, str]], GatewayError]
    render_error: Callable[[GatewayError], tuple[int, dict[str, Any]]]
    # What render_response drops or changes, reported in the diagnostics header (issue 3 §4).
    response_losses: Callable[..., tuple[Diagnostic, ...]]  # (response, **reply_options)
    # How the client's request shapes its reply: keywords for render_response and the stream
    # renderer (Chat: a legacy ``functions`` client reads ``function_call``).
    reply_options: Callable[[Request], dict[str, Any]] = lambda request: {}


OPENAI = Dialect(
    name="openai_chat",
    parse_request=openai_chat.parse_request,
    render_request=openai_chat.render_request,
    parse_response=openai_chat.parse_response,
    render_response=openai_chat.render_response,
    stream_parser=openai_chat.StreamParser,
    stream_renderer=openai_chat.StreamRenderer,
    parse_error=openai_chat.parse_error,
    render_error=openai_chat.render_error,
    response_losses=response_losses,
    reply_options=openai_chat.reply_options,
)

ANTHROPIC = Dialect(
    name="anthropic_messages",
    parse_request=anthropic_messages.parse_request,
    render_request=anthropic_messages.render_request,
    parse_response=anthropic_messages.parse_response,
    render_response=anthropic_messages.render_response,
    stream_parser=anthropic_messages.StreamParser,
    stream_renderer=anthropic_messages.StreamRenderer,
    parse_error=anthropic_messages.parse_error,
    render_error=anthropic_messages.render_error,
    response_losses=render_diagnostics,
)

RESPONSES = Dialect(
    name="openai_responses",
    parse_request=openai_responses.parse_request,
    render_request=openai_responses.render_request,
    parse_response=openai_responses.parse_response,
    render_response=openai_responses.render_response,
    stream_parser=openai_responses.StreamParser,
    stream_renderer=openai_responses.StreamRenderer,
    parse_error=openai_responses.parse_error,
    render_error=openai_responses.render_error,
    response_losses=responses_losses.response_losses,
)

DIALECTS: Mapping[DialectName, Dialect] = {
    OPENAI.name: OPENAI,
    ANTHROPIC.name: ANTHROPIC,
    RESPONSES.name: RESPONSES,
}
