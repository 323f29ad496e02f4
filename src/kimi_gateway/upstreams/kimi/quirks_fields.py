"""Fix-ups of a request's top-level fields that Kimi does not take.

Each client dialect keeps what only it can say in its own field of the Request
(``openai_chat``, ``anthropic_messages``, ``openai_responses``: core/model.py), and only that
dialect's renderer writes it. Here the fields of every dialect are cut down to what Kimi's face
accepts (an allow-list per wire, §5.1, §14); every field a client sent that Kimi will not get
is dropped with one diagnostic naming it (docs/kimi.md §F2.7). ``user`` becomes
``safety_identifier`` on the OpenAI face (§5.2). What does not belong here: tools
(``quirks_tools``), sampling, thinking, messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from kimi_gateway.core.model import (
    AnthropicMessagesFields,
    OpenAIChatFields,
    OpenAIResponsesFields,
    Request,
    ToolChoice,
)
from kimi_gateway.core.records import replace
from kimi_gateway.upstreams.kimi.policy import QuirkContext

# §5.1 [O] OAS ChatRequestBase: the Chat fields without a canonical form the OpenAI faces accept.
# Partial mode (§5.3) is ``OpenAIChatFields.partial``, kept on this face.
OPENAI_CHAT_ALLOWED = frozenset({"prediction", "safety_identifier", "logprobs", "top_logprobs"})
# A Responses field with the same name and meaning in Chat Completions (OpenAI's end-user id,
# §5.1); Responses' ``top_logprobs`` is not one: Chat takes it only with ``logprobs: true``.
RESPONSES_AS_CHAT = frozenset({"safety_identifier"})
# §14 [3M] HALRO: the Anthropic route accepts ``output_config`` (effort, format); the dialect
# keeps only its unmapped rest there. Nothing else of Anthropic's own fields is known to work.
_OUTPUT_CONFIG_ALLOWED = frozenset({"effort", "format"})
_BY_NAME = ("passthrough", "unknown")  # the fields that hold wire fields by name


def drop_unsupported_params(request: Request, ctx: QuirkContext) -> Request:
    """docs/kimi.md §F2.7: every field Kimi does not take is dropped explicitly, by name
    (§5.2: seed, logit_bias, service_tier, store, modalities, audio, web_search_options …;
    Anthropic's context_management, top_k, server tools on the OpenAI wire; any dialect's
    fields on the other wire)."""
    if (
        request.openai_chat is None
        and request.anthropic_messages is None
        and request.openai_responses is None
    ):
        return request  # the common case: no dialect-only field was sent (the hot path)
    kept = _for_openai(request) if ctx.openai else _for_anthropic(request)
    for key in sorted(set(sent_fields(request)) - set(sent_fields(kept))):
        detail = f"'{key}' is not accepted by Kimi; not sent"
        kept = replace(kept, diagnostics=ctx.note(kept, "dropped_param", detail, key))
    return _trim_output_config(kept, ctx)


def sent_fields(request: Request) -> list[str]:
    """The names of the dialect-only fields ``request`` carries, in every dialect's field.

    Read off the dataclasses, so a field added to one is reported here without a change: a
    field at its default was not sent (an empty ``mcp_servers`` or ``include`` was).
    """
    names: list[str] = []
    for own in (request.openai_chat, request.anthropic_messages, request.openai_responses):
        if own is None:
            continue
        for spec in fields(own):
            value: Any = getattr(own, spec.name)
            if spec.name in _BY_NAME:
                names.extend(value)
            elif value != spec.default:
                names.append(spec.name)
    return names


def _for_openai(request: Request) -> Request:
    chat = request.openai_chat or OpenAIChatFields()
    kept = {k: v for k, v in chat.passthrough.items() if k in OPENAI_CHAT_ALLOWED}
    responses = request.openai_responses or OpenAIResponsesFields()
    for key in sorted(RESPONSES_AS_CHAT & set(responses.passthrough)):
        kept.setdefault(key, responses.passthrough[key])
    own = OpenAIChatFields(partial=chat.partial, passthrough=kept)
    return replace(
        request,
        openai_chat=own if own != OpenAIChatFields() else None,
        anthropic_messages=None,
        openai_responses=None,
    )


def _for_anthropic(request: Request) -> Request:
    output = _output_config(request)
    own = AnthropicMessagesFields(output_config=output) if output else None
    return replace(request, openai_chat=None, anthropic_messages=own, openai_responses=None)


def _output_config(request: Request) -> Mapping[str, Any]:
    own = request.anthropic_messages
    return {} if own is None or own.output_config is None else own.output_config


def _trim_output_config(request: Request, ctx: QuirkContext) -> Request:
    own, output = request.anthropic_messages, _output_config(request)
    dropped = sorted(set(output) - _OUTPUT_CONFIG_ALLOWED)
    if own is None or not dropped:
        return request
    detail = f"output_config keys {dropped} are not accepted by Kimi; not sent"
    request = replace(
        request, diagnostics=ctx.note(request, "dropped_param", detail, "output_config")
    )
    trimmed = {k: v for k, v in output.items() if k in _OUTPUT_CONFIG_ALLOWED}
    return replace(request, anthropic_messages=replace(own, output_config=trimmed or None))


def map_openai_identity(request: Request, ctx: QuirkContext) -> Request:
    """§5.2: Kimi's spec has no ``user``, ``metadata`` or ``parallel_tool_calls``. ``user`` is
    OpenAI's end-user id, which §5.1's ``safety_identifier`` replaces; ``metadata`` is the
    client's bookkeeping (kept for the cache key, not sent); ``parallel_tool_calls: false``
    cannot be honoured."""
    choice = request.tool_choice
    if not ctx.openai or (
        request.user is None
        and not request.metadata
        and (choice is None or choice.parallel is None)
    ):
        return request
    chat = request.openai_chat
    if request.user is not None:
        chat = chat or OpenAIChatFields()
        if "safety_identifier" not in chat.passthrough:
            passthrough = {**chat.passthrough, "safety_identifier": request.user}
            chat = replace(chat, passthrough=passthrough)
    if request.metadata:
        detail = "metadata is not accepted by Kimi's chat API; not sent"
        request = replace(
            request, diagnostics=ctx.note(request, "dropped_param", detail, "metadata")
        )
    if choice is not None and choice.parallel is not None:
        if choice.parallel is False:
            detail = "parallel_tool_calls=false has no Kimi form; the model may call several"
            request = replace(
                request,
                diagnostics=ctx.note(request, "dropped_param", detail, "parallel_tool_calls"),
            )
        choice = ToolChoice(choice.mode, choice.name)
    return replace(request, user=None, metadata={}, openai_chat=chat, tool_choice=choice)
