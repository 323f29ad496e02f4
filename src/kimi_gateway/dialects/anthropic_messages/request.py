"""Anthropic Messages requests ↔ canonical Request (parse_request / render_request).

Top-level mapping: ``system`` (string or text blocks) → ``Request.system``; ``messages`` with
roles user/assistant and the mid-conversation ``system`` role (Claude Code's beta, docs/kimi.md
§F1) → Message, kept in order and never merged; ``max_tokens`` (required on parse), temperature,
top_p, ``stop_sequences`` → ``stop``, ``stream``, ``metadata`` (verbatim: which field becomes a
cache key is a Kimi quirk, docs/kimi.md §13.1); tools and tool_choice (tools.py); ``thinking`` →
ThinkingConfig (enabled + budget_tokens / adaptive / disabled, Kimi's ``keep``) with
``output_config.effort`` → ``effort`` and ``output_config.format`` → ``response_format`` in
OpenAI's shape (``{"type":"json_schema","json_schema":{"name","schema"}}``).

Everything else is kept, typed, in ``Request.anthropic_messages``: ``top_k``,
``context_management``, ``service_tier``, ``container``, ``mcp_servers``, the rest of
``output_config`` (including ``effort`` when no ``thinking`` is given: absent thinking means the
model's default, which no canonical mode says), ``server_tools`` (tools.py), and fields not
known here (``unknown``, each reported as ``unknown_field``). render_request renders back the
Anthropic fields, never ``unknown``, and never reads another dialect's private fields
(``Request.openai_chat``, ``Request.openai_responses``): those are never sent to an Anthropic
upstream (docs/kimi.md §F2.7: translate or drop every field explicitly). ``n``, penalties,
``user``, ``prompt_cache_key``, ``include_usage`` and ``Message.name`` have no Anthropic form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from kimi_gateway.core import history
from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    AnthropicMessagesFields,
    Diagnostic,
    Message,
    Request,
    Role,
    TextPart,
    ThinkingConfig,
    derived,
)
from kimi_gateway.core.records import replace
from kimi_gateway.dialects.anthropic_messages import fields
from kimi_gateway.dialects.anthropic_messages.content import check_keys, parse_cache, parse_content
from kimi_gateway.dialects.anthropic_messages.content_render import render_content
from kimi_gateway.dialects.anthropic_messages.tools import (
    parse_tool_choice,
    parse_tools,
    render_tool_choice,
    render_tools,
)
from kimi_gateway.dialects.message_memo import MessageMemo, memoised, resume
from kimi_gateway.dialects.raw_messages import RawMessages

ThinkingMode: TypeAlias = Literal["enabled", "disabled", "adaptive"]
_MEMO_TAG = b"anthropic_messages"
_MAPPED = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "temperature",
        "top_p",
        "stop_sequences",
        "stream",
        "metadata",
    }
)
# Anthropic request fields without a canonical form: AnthropicMessagesFields, typed.
_OWN = frozenset({"top_k", "context_management", "service_tier", "container", "mcp_servers"})
_ROLES: dict[str, Role] = {"user": "user", "assistant": "assistant", "system": "system"}
_THINKING_MODES: dict[str, ThinkingMode] = {
    "enabled": "enabled",
    "disabled": "disabled",
    "adaptive": "adaptive",
}


def parse_request(body: Mapping[str, Any], *, memo: MessageMemo | None = None) -> Request:
    """A client's Anthropic Messages request body → canonical Request. ``memo`` (a body
    decoded from JSON only): messages parsed before are looked up (dialects/message_memo.py)."""
    body = fields.mapping(body, "body")
    diags: list[Diagnostic] = []
    if body.get("max_tokens") is None:
        raise TranslationError("max_tokens: required", param="max_tokens")
    tools, server_tools = _tools(body.get("tools"), diags, memo)
    thinking, response_format, output_rest = _parse_output(body, diags)
    own = _own_fields(body, diags)
    own = replace(own, server_tools=server_tools, output_config=output_rest or None)
    metadata = body.get("metadata")
    return Request(
        model=fields.string(body.get("model"), "model"),
        messages=_parse_messages(body.get("messages"), diags, memo),
        system=_parse_system(body.get("system"), diags),
        tools=tools,
        tool_choice=parse_tool_choice(body.get("tool_choice")),
        max_tokens=fields.request_count(body.get("max_tokens"), "max_tokens"),
        temperature=fields.opt_number(body.get("temperature"), "temperature"),
        top_p=fields.opt_number(body.get("top_p"), "top_p"),
        stop=_parse_stop(body.get("stop_sequences")),
        stream=bool(body.get("stream") is not None and fields.boolean(body["stream"], "stream")),
        thinking=thinking,
        response_format=response_format,
        metadata={} if metadata is None else dict(fields.mapping(metadata, "metadata")),
        anthropic_messages=own if own != AnthropicMessagesFields() else None,
        diagnostics=tuple(diags),
    )


def _parse_messages(
    value: Any, diags: list[Diagnostic], memo: MessageMemo | None = None
) -> tuple[Message, ...]:
    if isinstance(value, RawMessages):  # bytes decoded when read (raw_messages.py)
        sequence: Sequence[Any] = value
    else:
        sequence = fields.sequence(value, "messages")
    if memo is None:
        return tuple(_parse_message(i, item, diags) for i, item in enumerate(sequence))
    resumed = resume(memo, _MEMO_TAG, sequence)  # the history kept from last turn, if any
    if resumed is None:
        return tuple(
            memoised(memo, _MEMO_TAG, i, m, diags, _parse_message) for i, m in enumerate(sequence)
        )
    kept: tuple[tuple[Message, ...], tuple[Diagnostic, ...]] = resumed.state or ((), ())
    messages, found = list(kept[0]), list(kept[1])
    for i in range(resumed.start, len(sequence)):
        if i == len(sequence) - 1:
            resumed.keep((tuple(messages), tuple(found)), i)
        messages.append(memoised(memo, _MEMO_TAG, i, sequence[i], found, _parse_message))
    diags.extend(found)
    return tuple(messages)


def _parse_message(i: int, item: Any, diags: list[Diagnostic]) -> Message:
    """``messages[i]``: what it parses to depends on ``i`` and ``item`` only."""
    param = f"messages[{i}]"
    message = fields.mapping(item, param)
    role = _ROLES.get(fields.string(message.get("role"), f"{param}.role"))
    if role is None:
        raise TranslationError(
            f"{param}.role: unknown role {message['role']!r} (user, assistant, system)",
            param=f"{param}.role",
        )
    check_keys(message, {"role", "content"}, param, diags)
    parts = parse_content(message.get("content"), f"{param}.content", diags)
    return Message(role, parts)


def _parse_system(value: Any, diags: list[Diagnostic]) -> tuple[TextPart, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(value),)
    parts: list[TextPart] = []
    for i, item in enumerate(fields.sequence(value, "system")):
        param = f"system[{i}]"
        block = fields.mapping(item, param)
        kind = fields.string(block.get("type"), f"{param}.type")
        if kind != "text":
            raise TranslationError(
                f"{param}.type: system blocks must be text, got {kind!r}", param=f"{param}.type"
            )
        check_keys(block, {"type", "text", "cache_control"}, param, diags)
        text = fields.string(block.get("text"), f"{param}.text")
        parts.append(TextPart(text, cache=parse_cache(block, param, diags)))
    return tuple(parts)


def _parse_stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = fields.sequence(value, "stop_sequences")
    return tuple(fields.string(item, f"stop_sequences[{i}]") for i, item in enumerate(items))


def _parse_output(
    body: Mapping[str, Any], diags: list[Diagnostic]
) -> tuple[ThinkingConfig | None, dict[str, Any] | None, dict[str, Any]]:
    """ThinkingConfig, response_format and the unmapped rest of ``output_config``."""
    raw = body.get("output_config")
    output = {} if raw is None else dict(fields.mapping(raw, "output_config"))
    thinking = _parse_thinking(body.get("thinking"), diags)
    if thinking is not None and output.get("effort") is not None:
        effort = fields.string(output.pop("effort"), "output_config.effort")
        thinking = ThinkingConfig(thinking.mode, thinking.budget_tokens, effort, thinking.keep)
    response_format = None
    if output.get("format") is not None:
        wire_format = fields.mapping(output.pop("format"), "output_config.format")
        response_format = _parse_format(wire_format)
    return thinking, response_format, {k: v for k, v in output.items() if v is not None}


def _parse_thinking(value: Any, diags: list[Diagnostic]) -> ThinkingConfig | None:
    if value is None:
        return None
    thinking = fields.mapping(value, "thinking")
    wire_mode = fields.string(thinking.get("type"), "thinking.type")
    mode = _THINKING_MODES.get(wire_mode)
    if mode is None:
        raise TranslationError(
            f"thinking.type: unknown value {wire_mode!r} (enabled, disabled, adaptive)",
            param="thinking.type",
        )
    check_keys(thinking, {"type", "budget_tokens", "keep"}, "thinking", diags)
    return ThinkingConfig(
        mode,
        budget_tokens=fields.opt_request_count(
            thinking.get("budget_tokens"), "thinking.budget_tokens"
        ),
        keep=fields.opt_string(thinking.get("keep"), "thinking.keep"),
    )


def _parse_format(value: Mapping[str, Any]) -> dict[str, Any]:
    """Anthropic ``{"type":"json_schema","schema":S}`` → OpenAI's response_format shape."""
    if value.get("type") == "json_schema" and isinstance(value.get("schema"), Mapping):
        return {"type": "json_schema", "json_schema": {"name": "output", "schema": value["schema"]}}
    return dict(value)


def _own_fields(body: Mapping[str, Any], diags: list[Diagnostic]) -> AnthropicMessagesFields:
    """The typed Anthropic-only fields, and the unknown rest (each reported)."""
    unknown: dict[str, Any] = {}
    for key, value in body.items():
        if key in _MAPPED or key in _OWN or value is None:
            continue
        unknown[key] = value
        detail = f"{key} is not an Anthropic Messages field known here; not forwarded"
        diags.append(Diagnostic("unknown_field", detail))
    context = body.get("context_management")
    container = body.get("container")
    servers = body.get("mcp_servers")
    return AnthropicMessagesFields(
        top_k=fields.opt_request_count(body.get("top_k"), "top_k"),
        context_management=None if context is None else _object(context, "context_management"),
        service_tier=fields.opt_string(body.get("service_tier"), "service_tier"),
        container=container if isinstance(container, str) else _opt_object(container, "container"),
        mcp_servers=None if servers is None else _objects(servers, "mcp_servers"),
        unknown=unknown,
    )


def _object(value: Any, param: str) -> dict[str, Any]:
    return dict(fields.mapping(value, param))


def _opt_object(value: Any, param: str) -> dict[str, Any] | None:
    return None if value is None else _object(value, param)


def _objects(value: Any, param: str) -> tuple[dict[str, Any], ...]:
    items = fields.sequence(value, param)
    return tuple(_object(item, f"{param}[{i}]") for i, item in enumerate(items))


def render_request(request: Request) -> dict[str, Any]:
    """Canonical Request → an Anthropic Messages request body for an upstream.

    Each message's wire dict is made once per message object and kept with it (core/model.py
    ``derived``: an agent's resent history costs a look-up per message), so the body shares
    them: callers never change it in place (the wire fix-ups copy what they change)."""
    body: dict[str, Any] = {"model": request.model}
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.system:
        body["system"] = render_content(request.system)
    none: tuple[dict[str, Any], ...] = ()
    rendered = history.walk(request.messages, "anthropic_messages.render/history", _rendered, none)
    body["messages"] = list(rendered)
    own = request.anthropic_messages or AnthropicMessagesFields()
    if request.tools or own.server_tools:
        body["tools"] = render_tools(request.tools, own.server_tools)
    if request.tool_choice is not None:
        body["tool_choice"] = render_tool_choice(request.tool_choice)
    _render_sampling(request, body)
    _render_output(request, own.output_config, body)
    if request.metadata:
        body["metadata"] = dict(request.metadata)
    _render_own(own, body)
    return body


def _tools(value: Any, diags: list[Diagnostic], memo: MessageMemo | None) -> Any:
    """parse_tools, looked up in the message memo (an agent sends the same tools each turn:
    the same Tool objects then keep what is derived from them, core/model.py)."""
    if memo is None or value is None:
        return parse_tools(value, diags)
    return memoised(memo, b"anthropic_messages/tools", 0, value, diags, _tools_at)


def _tools_at(i: int, value: Any, diags: list[Diagnostic]) -> Any:
    return parse_tools(value, diags)


def _rendered(
    messages: Sequence[Message], start: int, end: int, found: tuple[dict[str, Any], ...]
) -> tuple[dict[str, Any], ...]:
    """``found`` and the wire messages of messages[start:end] (core/history.py ``walk``)."""
    return (*found, *(_render_message(messages[i]) for i in range(start, end)))


def _render_message(message: Message) -> dict[str, Any]:
    facts = derived(message)
    rendered: dict[str, Any] | None = facts.get("anthropic_messages.render")
    if rendered is None:
        content = render_content(message.parts, role=message.role)
        rendered = facts["anthropic_messages.render"] = {"role": message.role, "content": content}
    return rendered


def _render_own(own: AnthropicMessagesFields, body: dict[str, Any]) -> None:
    """The typed Anthropic-only fields, as they came (``unknown`` is never sent)."""
    for key, value in (
        ("top_k", own.top_k),
        ("context_management", own.context_management),
        ("service_tier", own.service_tier),
        ("container", own.container),
        ("mcp_servers", own.mcp_servers),
    ):
        if value is None:
            continue
        if isinstance(value, tuple):
            body[key] = [dict(item) for item in value]
        else:
            body[key] = dict(value) if isinstance(value, Mapping) else value


def _render_sampling(request: Request, body: dict[str, Any]) -> None:
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.stream:
        body["stream"] = True


def _render_output(request: Request, rest: Mapping[str, Any] | None, body: dict[str, Any]) -> None:
    output: dict[str, Any] = dict(rest) if rest is not None else {}
    thinking = request.thinking
    if thinking is not None:
        wire: dict[str, Any] = {"type": thinking.mode}
        if thinking.budget_tokens is not None:
            wire["budget_tokens"] = thinking.budget_tokens
        if thinking.keep is not None:
            wire["keep"] = thinking.keep
        body["thinking"] = wire
        if thinking.effort is not None:
            output["effort"] = thinking.effort
    if request.response_format is not None:
        output["format"] = _render_format(request.response_format)
    if output:
        body["output_config"] = output


def _render_format(value: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's response_format shape → Anthropic ``output_config.format``."""
    kind = value.get("type")
    spec = value.get("json_schema")
    if kind == "json_schema" and isinstance(spec, Mapping) and "schema" in spec:
        return {"type": "json_schema", "schema": spec["schema"]}
    if kind == "json_object":
        return {"type": "json_schema", "schema": {"type": "object"}}
    return dict(value)
