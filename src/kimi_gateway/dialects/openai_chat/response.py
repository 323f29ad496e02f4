"""Non-streaming ``chat.completion`` bodies ↔ canonical :class:`Response` (docs/kimi.md §6).

Parsing reads every choice (``n > 1``: choice 0 is the Response's parts, the others
``more_choices``), each message reasoning first (ThinkingPart), then content, then tool calls
(``index`` tolerated and ignored, §6). A malformed upstream reply is the upstream's fault, so
it raises GatewayError("server", status 502), not TranslationError. Rendering puts ``content: null``
when there are only tool calls, ``reasoning_content`` and ``tool_calls`` with ``index``, and
usage via usage.py; every choice with its ``index``. For a legacy client
(``legacy_functions``: it sent ``functions``, not ``tools``) a call is ``message.function_call``
with ``finish_reason: "function_call"``; the legacy API has one call per message, so later ones
are not sent (losses.py reports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import GatewayError, TranslationError
from kimi_gateway.core.model import (
    Choice,
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
from kimi_gateway.dialects.openai_chat.message_render import render_reasoning, render_tool_call
from kimi_gateway.dialects.openai_chat.messages import parse_reasoning, parse_tool_call
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
    parsed = [_choice(value, f"choices[{i}]", diagnostics) for i, value in enumerate(choices)]
    parsed.sort(key=lambda item: item[0])
    first = parsed[0][1] if parsed else Choice((), parse_finish(None))
    usage = parse_usage(body.get("usage"))
    if usage is None and choices:
        usage = parse_usage(as_object(choices[0], "choices[0]").get("usage"))
    return Response(
        id=opt_str(body.get("id"), "id") or "",
        model=opt_str(body.get("model"), "model") or "",
        parts=first.parts,
        stop_reason=first.stop_reason,
        usage=usage or Usage(),
        created=opt_int(body.get("created"), "created"),
        diagnostics=tuple(diagnostics),
        more_choices=tuple(choice for _, choice in parsed[1:]),
    )


def _choice(value: Any, param: str, diagnostics: list[Diagnostic]) -> tuple[int, Choice]:
    """One ``choices[]`` entry: its ``index`` and its answer."""
    choice = as_object(value, param)
    finish = choice.get("finish_reason")
    message = as_object(choice.get("message") or {}, f"{param}.message")
    parts, refused = _message_parts(message, f"{param}.message")
    stop = parse_finish(finish)
    if stop is None and finish not in (None, ""):
        diagnostics.append(Diagnostic("unknown_finish_reason", f"finish_reason {finish!r}"))
    if stop == "end_turn" and refused:
        stop = "refusal"
    index = opt_int(choice.get("index"), f"{param}.index")
    return (0 if index is None else index), Choice(parts, stop)


def _message_parts(message: Mapping[str, Any], param: str) -> tuple[tuple[Part, ...], bool]:
    """The parts of a reply message, and whether it is a refusal (OpenAI ``refusal``)."""
    parts: list[Part] = []
    thinking = parse_reasoning(message, param)
    if thinking is not None:
        parts.append(thinking)
    for part in parse_content(message.get("content"), f"{param}.content"):
        if isinstance(part, TextPart) and part.text:
            parts.append(part)
    refusal = opt_str(message.get("refusal"), f"{param}.refusal")
    if refusal:
        parts.append(TextPart(refusal))
    calls = message.get("tool_calls") or []
    for j, call in enumerate(as_list(calls, f"{param}.tool_calls")):
        parts.append(parse_tool_call(call, f"{param}.tool_calls[{j}]"))
    return tuple(parts), bool(refusal)


def render_response(response: Response, *, legacy_functions: bool = False) -> dict[str, Any]:
    """Response → ``chat.completion`` body as Kimi sends it (docs/kimi.md §6)."""
    first = Choice(response.parts, response.stop_reason)
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created or 0,
        "model": response.model,
        "choices": [
            _render_choice(i, choice, legacy_functions)
            for i, choice in enumerate((first, *response.more_choices))
        ],
        "usage": render_usage(response.usage),
    }


def _render_choice(index: int, choice: Choice, legacy: bool) -> dict[str, Any]:
    texts = [p.text for p in choice.parts if isinstance(p, TextPart)]
    thinking = [p for p in choice.parts if isinstance(p, ThinkingPart) and not p.redacted]
    calls = [p for p in choice.parts if isinstance(p, ToolCallPart)]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if calls and not texts else "".join(texts),
    }
    message.update(render_reasoning(thinking))
    finish = render_finish(choice.stop_reason)
    if calls and legacy:
        message["function_call"] = {"name": calls[0].name, "arguments": calls[0].arguments}
        finish = "function_call" if finish == "tool_calls" else finish
    elif calls:
        message["tool_calls"] = [
            {"index": i, **render_tool_call(call)} for i, call in enumerate(calls)
        ]
    return {"index": index, "message": message, "finish_reason": finish}
