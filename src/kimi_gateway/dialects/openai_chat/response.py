"""Non-streaming ``chat.completion`` bodies ↔ canonical :class:`Response` (docs/kimi.md §6).

Parsing reads ``choices[0]`` (canonical responses have one choice; other choices are reported
as a Diagnostic), reasoning first (ThinkingPart), then content, then tool calls (``index``
tolerated and ignored, §6). A malformed upstream reply is the upstream's fault, so it raises
GatewayError("server", status 502), not TranslationError. Rendering puts ``content: null``
when there are only tool calls, ``reasoning_content`` and ``tool_calls`` with ``index``, and
usage via usage.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import GatewayError, TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    Part,
    Response,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat.content import parse_content
from kimi_gateway.dialects.openai_chat.errors import error_from_payload
from kimi_gateway.dialects.openai_chat.messages import (
    parse_reasoning,
    parse_tool_call,
    render_reasoning,
    render_tool_call,
)
from kimi_gateway.dialects.openai_chat.usage import (
    parse_finish,
    parse_usage,
    render_finish,
    render_usage,
)
from kimi_gateway.dialects.openai_chat.wire import as_list, as_object, opt_int, opt_str


def malformed_reply(error: TranslationError) -> GatewayError:
    return GatewayError(
        "server", f"The upstream sent a malformed reply: {error.message}", status=502
    )


def parse_response(body: Mapping[str, Any]) -> Response:
    """An upstream's ``chat.completion`` body → Response. Raises GatewayError."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        raise error_from_payload(body, None)  # an error delivered with a 2xx status
    try:
        return _parse(body)
    except TranslationError as error:
        raise malformed_reply(error) from error


def _parse(body: Any) -> Response:
    body = as_object(body, "body")
    raw_choices = body.get("choices")
    choices = [] if raw_choices is None else as_list(raw_choices, "choices")
    diagnostics: list[Diagnostic] = []
    if len(choices) > 1:
        diagnostics.append(
            Diagnostic("dropped_choices", f"only choices[0] of {len(choices)} was kept")
        )
    parts: tuple[Part, ...] = ()
    refused = False
    finish: Any = None
    choice: Mapping[str, Any] = {}
    if choices:
        choice = as_object(choices[0], "choices[0]")
        finish = choice.get("finish_reason")
        message = as_object(choice.get("message") or {}, "choices[0].message")
        parts, refused = _message_parts(message)
    stop = parse_finish(finish)
    if stop is None and finish not in (None, ""):
        diagnostics.append(Diagnostic("unknown_finish_reason", f"finish_reason {finish!r}"))
    if stop == "end_turn" and refused:
        stop = "refusal"
    usage = parse_usage(body.get("usage")) or parse_usage(choice.get("usage")) or Usage()
    return Response(
        id=opt_str(body.get("id"), "id") or "",
        model=opt_str(body.get("model"), "model") or "",
        parts=parts,
        stop_reason=stop,
        usage=usage,
        created=opt_int(body.get("created"), "created"),
        diagnostics=tuple(diagnostics),
    )


def _message_parts(message: Mapping[str, Any]) -> tuple[tuple[Part, ...], bool]:
    """The parts of a reply message, and whether it is a refusal (OpenAI ``refusal``)."""
    parts: list[Part] = []
    thinking = parse_reasoning(message, "choices[0].message")
    if thinking is not None:
        parts.append(thinking)
    for part in parse_content(message.get("content"), "choices[0].message.content"):
        if isinstance(part, TextPart) and part.text:
            parts.append(part)
    refusal = opt_str(message.get("refusal"), "choices[0].message.refusal")
    if refusal:
        parts.append(TextPart(refusal))
    calls = message.get("tool_calls") or []
    for j, call in enumerate(as_list(calls, "choices[0].message.tool_calls")):
        parts.append(parse_tool_call(call, f"choices[0].message.tool_calls[{j}]"))
    return tuple(parts), bool(refusal)


def render_response(response: Response) -> dict[str, Any]:
    """Response → ``chat.completion`` body as Kimi sends it (docs/kimi.md §6)."""
    texts = [p.text for p in response.parts if isinstance(p, TextPart)]
    thinking = [p for p in response.parts if isinstance(p, ThinkingPart) and not p.redacted]
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if calls and not texts else "".join(texts),
    }
    message.update(render_reasoning(thinking))
    if calls:
        message["tool_calls"] = [
            {"index": i, **render_tool_call(call)} for i, call in enumerate(calls)
        ]
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created or 0,
        "model": response.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": render_finish(response.stop_reason),
            }
        ],
        "usage": render_usage(response.usage),
    }
