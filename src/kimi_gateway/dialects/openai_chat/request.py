"""Chat Completions request body ↔ canonical :class:`Request` (top-level fields).

Field by field: ``max_tokens`` and ``max_completion_tokens`` both become ``max_tokens`` and
render as ``max_completion_tokens`` (docs/kimi.md §5.1, §16.2); ``stop`` is a string or list;
Kimi's ``thinking`` object (sent via ``extra_body``) and ``reasoning_effort`` become a
ThinkingConfig. Every other field — known OpenAI fields Kimi may not take (``seed``,
``logit_bias``, ``service_tier`` …, §5.2) and unknown ones alike — goes into
``Request.openai_chat.passthrough`` by name and is rendered back verbatim; the Kimi quirk layer
decides what to drop. Null values mean "absent" and are not kept. Only this dialect fills and
reads ``Request.openai_chat``: another dialect's private fields (``Request.anthropic_messages``,
``Request.openai_responses``) are never written into a Chat body.

``Request.openai_chat.partial`` marks Kimi partial mode (§5.3): the last message is an
assistant prefix to continue. It is rendered as ``"partial": true`` on that message, never as a
top-level field. ``Request.openai_chat.legacy_functions`` says the client sent the legacy
``functions`` (and no ``tools``), so the reply's call is rendered as ``function_call``
(response.py, stream_render.py). Messages are messages.py's business; tools tools.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, OpenAIChatFields, Request, ThinkingConfig, Tool
from kimi_gateway.dialects.message_memo import MessageMemo, memoised
from kimi_gateway.dialects.openai_chat.message_render import MessageFix, render_messages
from kimi_gateway.dialects.openai_chat.messages import parse_messages
from kimi_gateway.dialects.openai_chat.tools import (
    parse_tool_choice,
    parse_tools,
    render_tool,
    render_tool_choice,
)
from kimi_gateway.dialects.openai_chat.wire import (
    as_object,
    as_str,
    opt_bool,
    opt_count,
    opt_number,
    opt_object,
    opt_str,
    str_or_list,
)

_MAPPED = frozenset(
    {
        "model",
        "messages",
        "tools",
        "functions",
        "tool_choice",
        "function_call",
        "parallel_tool_calls",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "stop",
        "stream",
        "stream_options",
        "response_format",
        "thinking",
        "reasoning_effort",
        "metadata",
        "user",
        "prompt_cache_key",
    }
)
_THINKING_TYPES = ("enabled", "disabled", "adaptive")


def parse_request(body: Mapping[str, Any], *, memo: MessageMemo | None = None) -> Request:
    """A client's Chat Completions body → canonical Request. Raises TranslationError.
    ``memo`` (a body decoded from JSON only): messages parsed before are looked up
    (dialects/message_memo.py; ``function`` messages, whose ids come from earlier ones, never)."""
    body = as_object(body, "body")
    parsed = parse_messages(body.get("messages"), memo)
    tools, tool_diags = _tools(body, memo)
    choice, choice_diags = parse_tool_choice(body, bool(tools))
    stream = bool(opt_bool(body.get("stream"), "stream"))
    passthrough = {k: v for k, v in body.items() if k not in _MAPPED and v is not None}
    own = OpenAIChatFields(
        partial=parsed.partial,
        passthrough=passthrough,
        legacy_functions=body.get("functions") is not None and body.get("tools") is None,
    )
    return Request(
        model=as_str(body.get("model"), "model"),
        messages=parsed.messages,
        system=parsed.system,
        tools=tools,
        tool_choice=choice,
        max_tokens=_max_tokens(body),
        temperature=opt_number(body.get("temperature"), "temperature"),
        top_p=opt_number(body.get("top_p"), "top_p"),
        n=opt_count(body.get("n"), "n"),
        presence_penalty=opt_number(body.get("presence_penalty"), "presence_penalty"),
        frequency_penalty=opt_number(body.get("frequency_penalty"), "frequency_penalty"),
        stop=str_or_list(body.get("stop"), "stop"),
        stream=stream,
        include_usage=_include_usage(body),
        thinking=parse_thinking(body),
        response_format=opt_object(body.get("response_format"), "response_format"),
        metadata=dict(opt_object(body.get("metadata"), "metadata") or {}),
        user=opt_str(body.get("user"), "user"),
        prompt_cache_key=opt_str(body.get("prompt_cache_key"), "prompt_cache_key"),
        openai_chat=own if own != OpenAIChatFields() else None,
        diagnostics=(*parsed.diagnostics, *tool_diags, *choice_diags, *_stream_diags(body)),
    )


def reply_options(request: Request) -> dict[str, Any]:
    """How the reply to ``request`` is rendered (the keywords of render_response and
    StreamRenderer): a legacy ``functions`` client gets ``function_call``."""
    own = request.openai_chat
    return {"legacy_functions": own is not None and own.legacy_functions}


def _tools(body: Mapping[str, Any], memo: MessageMemo | None) -> Any:
    """parse_tools, the ``tools`` list looked up in the message memo (an agent sends the same
    tools each turn: the same Tool objects then keep what is derived from them, core/model.py)."""
    if memo is None or body.get("functions") is not None or body.get("tools") is None:
        return parse_tools(body)
    found: list[Diagnostic] = []
    tools = memoised(memo, b"openai_chat/tools", 0, body["tools"], found, _tools_at)
    return tools, found


def _tools_at(i: int, value: Any, diags: list[Diagnostic]) -> tuple[Tool, ...]:
    tools, found = parse_tools({"tools": value})
    diags.extend(found)
    return tools


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    newer = opt_count(body.get("max_completion_tokens"), "max_completion_tokens")
    older = opt_count(body.get("max_tokens"), "max_tokens")
    return newer if newer is not None else older


def _include_usage(body: Mapping[str, Any]) -> bool:
    options = opt_object(body.get("stream_options"), "stream_options") or {}
    return bool(opt_bool(options.get("include_usage"), "stream_options.include_usage"))


def _stream_diags(body: Mapping[str, Any]) -> list[Diagnostic]:
    options = opt_object(body.get("stream_options"), "stream_options") or {}
    return [
        Diagnostic("dropped_param", f"stream_options.{key} has no canonical form; dropped")
        for key, value in options.items()
        if key != "include_usage" and value is not None
    ]


def parse_thinking(body: Mapping[str, Any]) -> ThinkingConfig | None:
    """Kimi ``thinking: {"type", "keep"?, "budget_tokens"?}`` and ``reasoning_effort``.

    ``reasoning_effort`` alone implies thinking on, except ``"none"`` (off).
    """
    effort = opt_str(body.get("reasoning_effort"), "reasoning_effort")
    raw = opt_object(body.get("thinking"), "thinking")
    if raw is None:
        if effort is None:
            return None
        return ThinkingConfig(_implied_mode(effort), effort=effort)
    mode = raw.get("type")
    if mode not in _THINKING_TYPES:
        raise TranslationError(
            f"Invalid value for 'thinking.type': {mode!r}. Supported values are: 'enabled' and "
            "'disabled'.",
            param="thinking.type",
        )
    return ThinkingConfig(
        mode,
        budget_tokens=opt_count(raw.get("budget_tokens"), "thinking.budget_tokens"),
        effort=effort,
        keep=opt_str(raw.get("keep"), "thinking.keep"),
    )


def _implied_mode(effort: str) -> Any:
    return "disabled" if effort == "none" else "enabled"


def render_thinking(thinking: ThinkingConfig) -> dict[str, Any]:
    """``reasoning_effort`` when an effort is set; the ``thinking`` object unless the effort
    alone already says everything (no keep, no budget, mode as implied)."""
    out: dict[str, Any] = {}
    implied = (
        thinking.effort is not None
        and thinking.keep is None
        and thinking.budget_tokens is None
        and thinking.mode == _implied_mode(thinking.effort)
    )
    if not implied:
        obj: dict[str, Any] = {"type": thinking.mode}
        if thinking.keep is not None:
            obj["keep"] = thinking.keep
        if thinking.budget_tokens is not None:
            obj["budget_tokens"] = thinking.budget_tokens
        out["thinking"] = obj
    if thinking.effort is not None:
        out["reasoning_effort"] = thinking.effort
    return out


def render_request(request: Request, *, fix: MessageFix | None = None) -> dict[str, Any]:
    """Canonical Request → Chat Completions body (plain OpenAI wire; Kimi fix-ups are quirks).

    The body shares values with ``request`` (tool schemas, metadata, passthrough fields) and
    each message's wire dicts are kept with the message (message_render.py), so it is never
    changed in place: callers copy what they change (upstreams/kimi/quirks_wire.py). A copy of
    the whole body cost as much as the rest of the render on a 150 KB history (bench/LARGE.md).
    ``fix``: a fix-up of each wire message, kept with the message's render (message_render.py).
    """
    own = request.openai_chat or OpenAIChatFields()
    body: dict[str, Any] = {
        "model": request.model,
        "messages": render_messages(request.system, request.messages, partial=own.partial, fix=fix),
    }
    if request.tools:
        body["tools"] = [render_tool(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body.update(render_tool_choice(request.tool_choice, request.tools))
    _put(body, "max_completion_tokens", request.max_tokens)
    _put(body, "temperature", request.temperature)
    _put(body, "top_p", request.top_p)
    _put(body, "n", request.n)
    _put(body, "presence_penalty", request.presence_penalty)
    _put(body, "frequency_penalty", request.frequency_penalty)
    if request.stop:
        body["stop"] = list(request.stop)
    if request.stream:
        body["stream"] = True
        if request.include_usage:
            body["stream_options"] = {"include_usage": True}
    _put(body, "response_format", request.response_format)
    if request.thinking is not None:
        body.update(render_thinking(request.thinking))
    if request.metadata:
        body["metadata"] = dict(request.metadata)
    _put(body, "user", request.user)
    _put(body, "prompt_cache_key", request.prompt_cache_key)
    for key, value in own.passthrough.items():
        if key not in body:  # a canonical field wins over a passthrough of the same name
            body[key] = value
    return body


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value
