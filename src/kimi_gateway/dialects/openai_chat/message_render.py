"""Canonical ``Request.system`` + ``Message``s → the Chat Completions ``messages`` array.

The rendering half of the translation contract in messages.py: a user message's tool results
render as separate ``tool`` messages in order, the user text around them as user messages; an
assistant's thinking blocks join into ``reasoning_content`` (its ``reasoning_details`` ride
along), its tool calls into ``tool_calls`` with ``arguments`` byte-exact (docs/kimi.md §8.5).
Each message is rendered once per message object (core/model.py ``derived``): an agent's
history costs a look-up per message on later turns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import partial as partial_
from typing import Any

from kimi_gateway.core import history
from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    ImagePart,
    Message,
    OpaquePart,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    derived,
)
from kimi_gateway.dialects.openai_chat.content import render_content
from kimi_gateway.dialects.openai_chat.tools import render_tool

THINKING_JOINER = "\n\n"  # between thinking blocks merged into one reasoning_content


# A fix-up of each wire message, by a name for it (the upstream's: upstreams/kimi/quirks_wire.py):
# a pure function that returns its argument or a new dict, applied once per message object.
MessageFix = tuple[Hashable, Callable[[dict[str, Any]], dict[str, Any]]]


def render_messages(
    system: tuple[TextPart, ...],
    messages: tuple[Message, ...],
    *,
    partial: bool = False,
    fix: MessageFix | None = None,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if system:
        head = {"role": "system", "content": render_content(system, "system")}
        out.append(head if fix is None else fix[1](head))
    none: tuple[dict[str, Any], ...] = ()
    if len(messages) < history.MIN_MESSAGES:  # the usual API call: nothing to keep
        out.extend(_rendered(messages, 0, len(messages), none, fix))
    else:
        step = partial_(_rendered, fix=fix)
        tag = ("openai_chat.render/history", fix and fix[0])
        out.extend(history.walk(messages, tag, step, none))
    if partial and out and out[-1]["role"] == "assistant":
        out[-1] = {**out[-1], "partial": True}
    return out


def _rendered(
    messages: Sequence[Message],
    start: int,
    end: int,
    found: tuple[dict[str, Any], ...],
    fix: MessageFix | None = None,
) -> tuple[dict[str, Any], ...]:
    """``found`` and the wire messages of messages[start:end] (core/history.py ``walk``)."""
    if start >= end:
        return found
    out = list(found)
    key = "openai_chat.render" if fix is None else ("openai_chat.render", fix[0])
    for i in range(start, end):
        facts = derived(messages[i])  # rendered once per message object (core/model.py)
        rendered = facts.get(key)
        if rendered is None:
            rendered = _render_message(messages[i], f"messages[{i}]")
            if fix is not None:
                rendered = tuple(fix[1](wire) for wire in rendered)
            facts[key] = rendered
        out.extend(rendered)
    return tuple(out)


def _render_message(message: Message, param: str) -> tuple[dict[str, Any], ...]:
    """One message's wire messages. Shared by every body that renders this message object:
    never changed in place (render_request hands out a copy of the whole body); ``param``
    only names the message in an error, which is raised, never kept."""
    if message.role == "assistant":
        return (_render_assistant(message, param),)
    if message.role == "user":
        return tuple(_render_user(message, param))
    return (_with_name({"role": "system"}, message, param),)


def _with_name(head: dict[str, Any], message: Message, param: str) -> dict[str, Any]:
    if message.tools:  # a dynamic-tools message (§5.1): its content only when it has one
        head["tools"] = [render_tool(t) for t in message.tools]
        if message.parts:
            head["content"] = render_content(message.parts, f"{param}.parts")
    else:
        head["content"] = render_content(message.parts, f"{param}.parts")
    if message.name is not None:
        head["name"] = message.name
    return head


def _render_user(message: Message, param: str) -> list[dict[str, Any]]:
    """Tool results become ``tool`` messages; the content around them user messages, in order."""
    out: list[dict[str, Any]] = []
    run: list[Part] = []
    for j, part in enumerate(message.parts):
        if isinstance(part, ThinkingPart | ToolCallPart):
            raise TranslationError(
                f"A user message cannot contain a {type(part).__name__}.",
                param=f"{param}.parts[{j}]",
            )
        if not isinstance(part, ToolResultPart):
            run.append(part)
            continue
        if run:
            out.append(_user_text(run, message, param))
            run = []
        out.append(render_tool_result(part, f"{param}.parts[{j}]"))
    if run or not out:
        out.append(_user_text(run, message, param))
    return out


def _user_text(run: list[Part], message: Message, param: str) -> dict[str, Any]:
    return _with_name({"role": "user"}, Message("user", tuple(run), message.name), param)


def render_tool_result(part: ToolResultPart, param: str) -> dict[str, Any]:
    tool: dict[str, Any] = {
        "role": "tool",
        "content": render_content(part.content, f"{param}.content"),
        "tool_call_id": part.tool_call_id,
    }
    if part.name is not None:
        tool["name"] = part.name
    return tool


def _render_assistant(message: Message, param: str) -> dict[str, Any]:
    content = tuple(p for p in message.parts if isinstance(p, TextPart | ImagePart | OpaquePart))
    thinking = [p for p in message.parts if isinstance(p, ThinkingPart) and not p.redacted]
    calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
    for j, part in enumerate(message.parts):
        if isinstance(part, ToolResultPart):
            raise TranslationError(
                "An assistant message cannot contain a tool result.", param=f"{param}.parts[{j}]"
            )
    out: dict[str, Any] = {"role": "assistant"}
    out["content"] = None if calls and not content else render_content(content, param)
    if message.name is not None:
        out["name"] = message.name
    out.update(render_reasoning(thinking))
    if calls:
        out["tool_calls"] = [render_tool_call(call) for call in calls]
    return out


def render_reasoning(thinking: list[ThinkingPart]) -> dict[str, Any]:
    """The reasoning keys of an assistant message, in requests and replies alike: the blocks
    joined into ``reasoning_content``, plus any ``reasoning_details`` they carried; {} if none."""
    if not thinking:
        return {}
    out: dict[str, Any] = {"reasoning_content": THINKING_JOINER.join(p.text for p in thinking)}
    found = [
        details
        for p in thinking
        if p.provider_data is not None
        and isinstance(details := p.provider_data.get("reasoning_details"), list)
    ]
    if found:
        out["reasoning_details"] = [entry for details in found for entry in details]
    return out


def render_tool_call(call: ToolCallPart) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": call.kind,
        "function": {"name": call.name, "arguments": call.arguments},
    }
