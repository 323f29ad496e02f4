"""Responses request body ↔ canonical :class:`Request` (top-level fields).

``instructions`` is ``Request.system``; ``input`` is items.py's business, tools tools.py's;
``max_output_tokens`` is ``max_tokens``; ``reasoning.effort`` is a ThinkingConfig (``"none"``
turns thinking off) and the rest of ``reasoning`` (``summary``) stays in
``Request.openai_responses.reasoning``; ``text.format`` becomes the Chat Completions
``response_format`` shape (``json_schema`` nested under ``json_schema``), the rest of ``text``
(``verbosity``) stays in ``Request.openai_responses.text``. ``store`` and ``include`` are typed
there too; every other field (``truncation``, ``service_tier``, ``client_metadata``,
``stream_options`` …) goes to its ``passthrough`` by name. All of it renders back verbatim, and
only here: no other dialect's renderer reads ``Request.openai_responses``, nor this one another
dialect's fields; the Kimi quirk layer drops (and reports) what Kimi does not take.

``previous_response_id`` and ``conversation`` refer to state kept by the server that produced
them, which a translator cannot see: they are refused here with a TranslationError naming the
field rather than silently answering without the history. The gateway's ``/v1/responses`` face
(server/responses_create.py) resolves ``previous_response_id`` from its response store into
``input`` before it parses. ``unseal`` opens reasoning ``encrypted_content`` (seal.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.json_copy import json_copy
from kimi_gateway.core.model import (
    Diagnostic,
    OpenAIResponsesFields,
    Request,
    TextPart,
    ThinkingConfig,
)
from kimi_gateway.dialects.openai_responses.items import Unseal, parse_input
from kimi_gateway.dialects.openai_responses.items_render import render_input
from kimi_gateway.dialects.openai_responses.tools import (
    parse_tool_choice,
    parse_tools,
    render_tool,
    render_tool_choice,
)
from kimi_gateway.dialects.openai_responses.wire import (
    as_list,
    as_object,
    as_str,
    opt_bool,
    opt_int,
    opt_number,
    opt_object,
    opt_str,
)

_MAPPED = frozenset(
    {
        "model",
        "instructions",
        "input",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_output_tokens",
        "temperature",
        "top_p",
        "stream",
        "reasoning",
        "text",
        "metadata",
        "user",
        "prompt_cache_key",
    }
)
_OWN = frozenset({"store", "include"})  # typed in OpenAIResponsesFields
_STATEFUL = ("previous_response_id", "conversation")


def parse_request(body: Mapping[str, Any], *, unseal: Unseal | None = None) -> Request:
    """A client's Responses body → canonical Request. Raises TranslationError."""
    body = as_object(body, "body")
    for key in _STATEFUL:
        if body.get(key) is not None:
            raise TranslationError(
                f"'{key}' is not supported here: no conversation state is kept. Send the "
                "whole conversation in 'input' (Codex does with store=false).",
                param=key,
            )
    diags: list[Diagnostic] = []
    if body.get("input") is None:
        raise TranslationError("'input' is required.", param="input")
    messages = parse_input(body["input"], diags, unseal)
    tools, hosted = parse_tools(body.get("tools"), diags)
    choice, choice_rest = parse_tool_choice(body, bool(tools), diags)
    thinking, reasoning_rest = _thinking(body)
    response_format, text_rest = _text_format(body)
    own = OpenAIResponsesFields(
        hosted_tools=hosted,
        tool_choice=choice_rest,
        reasoning=reasoning_rest,
        text=text_rest,
        store=opt_bool(body.get("store"), "store"),
        include=_include(body.get("include")),
        passthrough={
            k: v for k, v in body.items() if k not in _MAPPED and k not in _OWN and v is not None
        },
    )
    instructions = opt_str(body.get("instructions"), "instructions")
    return Request(
        model=as_str(body.get("model"), "model"),
        messages=messages,
        system=(TextPart(instructions),) if instructions is not None else (),
        tools=tools,
        tool_choice=choice,
        max_tokens=opt_int(body.get("max_output_tokens"), "max_output_tokens"),
        temperature=opt_number(body.get("temperature"), "temperature"),
        top_p=opt_number(body.get("top_p"), "top_p"),
        stream=bool(opt_bool(body.get("stream"), "stream")),
        thinking=thinking,
        response_format=response_format,
        metadata=dict(opt_object(body.get("metadata"), "metadata") or {}),
        user=opt_str(body.get("user"), "user"),
        prompt_cache_key=opt_str(body.get("prompt_cache_key"), "prompt_cache_key"),
        openai_responses=own if own != OpenAIResponsesFields() else None,
        diagnostics=tuple(diags),
    )


def _include(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(as_str(item, f"include[{i}]") for i, item in enumerate(as_list(value, "include")))


def _thinking(body: Mapping[str, Any]) -> tuple[ThinkingConfig | None, dict[str, Any] | None]:
    """The ThinkingConfig of ``reasoning.effort``, and the rest of ``reasoning``."""
    reasoning = opt_object(body.get("reasoning"), "reasoning")
    if reasoning is None:
        return None, None
    rest = {k: v for k, v in reasoning.items() if k != "effort" and v is not None} or None
    effort = opt_str(reasoning.get("effort"), "reasoning.effort")
    if effort is None:
        return None, rest  # e.g. Codex's {"summary": "auto"}: the model's default thinking
    return ThinkingConfig("disabled" if effort == "none" else "enabled", effort=effort), rest


def _text_format(body: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, dict[str, Any] | None]:
    """The response_format of ``text.format``, and the rest of ``text``."""
    text = opt_object(body.get("text"), "text")
    if text is None:
        return None, None
    rest = {k: v for k, v in text.items() if k != "format" and v is not None} or None
    fmt = opt_object(text.get("format"), "text.format")
    if fmt is None:
        return None, rest
    kind = as_str(fmt.get("type"), "text.format.type")
    if kind != "json_schema":
        return dict(fmt), rest
    schema = {k: v for k, v in fmt.items() if k != "type"}
    return {"type": "json_schema", "json_schema": schema}, rest


def render_request(request: Request) -> dict[str, Any]:
    """Canonical Request → Responses body. Thinking budgets / ``keep`` have no Responses form."""
    body: dict[str, Any] = {"model": request.model}
    if request.system:
        body["instructions"] = "\n\n".join(part.text for part in request.system)
    body["input"] = render_input(request.messages)
    own = request.openai_responses or OpenAIResponsesFields()
    tools = [render_tool(tool) for tool in request.tools]
    tools.extend(dict(tool) for tool in own.hosted_tools)
    if tools:
        body["tools"] = tools
    if request.tool_choice is not None:
        body.update(render_tool_choice(request.tool_choice))
    _put(body, "max_output_tokens", request.max_tokens)
    _put(body, "temperature", request.temperature)
    _put(body, "top_p", request.top_p)
    if request.stream:
        body["stream"] = True
    _put(body, "reasoning", _render_reasoning(request, own.reasoning))
    _put(body, "text", _render_text(request, own.text))
    if request.metadata:
        body["metadata"] = dict(request.metadata)
    _put(body, "user", request.user)
    _put(body, "prompt_cache_key", request.prompt_cache_key)
    _render_own(own, body)
    # A copy: callers may edit the body without touching the frozen Request.
    return json_copy(body)


def _render_own(own: OpenAIResponsesFields, body: dict[str, Any]) -> None:
    """The Responses-only fields; a canonical field (tool_choice …) wins over a kept one."""
    if own.tool_choice is not None and "tool_choice" not in body:
        body["tool_choice"] = dict(own.tool_choice)
    _put(body, "store", own.store)
    if own.include is not None:
        body["include"] = list(own.include)
    for key, value in own.passthrough.items():
        if key not in body:
            body[key] = value


def _render_reasoning(request: Request, rest: Mapping[str, Any] | None) -> dict[str, Any] | None:
    out: dict[str, Any] = dict(rest) if rest is not None else {}
    thinking = request.thinking
    if thinking is not None:
        effort = thinking.effort
        if effort is None:
            effort = "none" if thinking.mode == "disabled" else None
        if effort is not None:
            out = {"effort": effort, **out}
    return out or None


def _render_text(request: Request, rest: Mapping[str, Any] | None) -> dict[str, Any] | None:
    out: dict[str, Any] = dict(rest) if rest is not None else {}
    fmt = request.response_format
    if fmt is not None:
        inner = fmt.get("json_schema")
        if fmt.get("type") == "json_schema" and isinstance(inner, Mapping):
            out = {"format": {"type": "json_schema", **inner}, **out}
        else:
            out = {"format": dict(fmt), **out}
    return out or None


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value
