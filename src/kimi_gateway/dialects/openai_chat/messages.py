"""The ``messages`` array ↔ canonical ``Request.system`` + ``Message``s.

Parsing rules (translation contract): ``developer`` is ``system``; a system message at index 0
(plain text, no ``name``) is the top-level system prompt, any other stays a system Message;
consecutive same-role messages stay as they are; ``tool`` messages become ToolResultParts of a
``user`` message, consecutive ones merged into one, and render back as separate ``tool``
messages in order (with the user text around them split into user messages, order kept).
Assistant reasoning (``reasoning_content``, ``reasoning``, ``reasoning_details``: the keys
Moonshot's own client accepts, docs/kimi.md §7.2) becomes a ThinkingPart placed first and renders
as ``reasoning_content``; ``reasoning_details`` entries ride along in ``provider_data``.
Tool-call ``arguments`` are kept byte-exact (§8.5). Legacy turns (an assistant
``function_call``, a ``function`` message) become a tool call and its result; the legacy API has
no call ids, so one is minted from the call's position (``functions.<name>:<message index>``,
K2's own id form, docs/kimi.md §8.1) — the same history gives the same ids on every turn, which
keeps Kimi's prompt cache warm — and a ``function`` message answers the latest unanswered call
of its name. Kimi's partial mode (§5.3) is reported to the
caller as a flag (request.py stores it as ``Request.openai_chat.partial``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
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
from kimi_gateway.core.records import record
from kimi_gateway.dialects.message_memo import MessageMemo, memoised, resume
from kimi_gateway.dialects.openai_chat.content import parse_content
from kimi_gateway.dialects.openai_chat.tools import parse_tool
from kimi_gateway.dialects.openai_chat.wire import (
    as_list,
    as_object,
    as_str,
    opt_bool,
    opt_str,
    wrong_type,
)
from kimi_gateway.dialects.raw_messages import RawMessages

_KNOWN_KEYS = frozenset(
    {
        "role",
        "content",
        "name",
        "tools",
        "tool_calls",
        "tool_call_id",
        "reasoning_content",
        "reasoning",
        "reasoning_details",
        "partial",
        "refusal",
        "function_call",
    }
)
# Output-only fields that SDKs echo back when a reply message is appended to the history.
_ECHOED_KEYS = frozenset({"annotations"})
_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


@record
class ParsedMessages:
    system: tuple[TextPart, ...]
    messages: tuple[Message, ...]
    partial: bool  # the last message is a Kimi partial-mode assistant prefix (docs/kimi.md §5.3)
    diagnostics: tuple[Diagnostic, ...]


@dataclass(slots=True)
class _Loop:
    """The parse's state between messages (what a kept history resumes from)."""

    system: tuple[TextPart, ...] = ()
    out: list[Message] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    in_tool_run: bool = False  # out[-1] was built from tool messages
    legacy: dict[str, list[str]] = field(default_factory=dict)  # name → unanswered legacy ids

    def copy(self) -> _Loop:
        legacy = {name: list(ids) for name, ids in self.legacy.items()}
        return _Loop(self.system, list(self.out), list(self.diagnostics), self.in_tool_run, legacy)


def parse_messages(value: Any, memo: MessageMemo | None = None) -> ParsedMessages:
    """With a ``memo``, the messages one by one through it, or only the new ones after the
    history kept from last turn (dialects/message_memo.py :func:`resume`; the state is copied
    both ways, the kept one never changes)."""
    items = value if isinstance(value, RawMessages) else as_list(value, "messages")
    if not items:
        raise TranslationError("'messages' must contain at least one message.", param="messages")
    resumed = None if memo is None else resume(memo, b"openai_chat", items)
    loop = _Loop() if resumed is None or resumed.state is None else resumed.state.copy()
    partial = False  # a kept history has none: only the last message may be partial
    last = len(items) - 1
    for i in range(0 if resumed is None else resumed.start, len(items)):
        if i == last and resumed is not None:
            resumed.keep(loop.copy(), last)
        raw = items[i]
        param = f"messages[{i}]"
        msg = as_object(raw, param)
        role = msg.get("role")
        if role not in _ROLES:
            raise TranslationError(
                f"Invalid value for '{param}.role': {role!r}. Supported values are: "
                "'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                param=f"{param}.role",
            )
        loop.diagnostics.extend(_unknown_keys(msg, param))
        partial = _partial(msg, param, is_last=i == last) or partial
        _parse_one(loop, i, msg, role, memo)
    out, diagnostics = tuple(loop.out), tuple(loop.diagnostics)
    return ParsedMessages(loop.system, out, partial, diagnostics)


def _parse_one(loop: _Loop, i: int, msg: Any, role: str, memo: MessageMemo | None) -> None:
    out, diagnostics = loop.out, loop.diagnostics
    if role in ("tool", "function"):
        if memo is None or role == "function":  # function: ids from earlier messages
            result = _tool_result(msg, f"messages[{i}]", diagnostics, loop.legacy)
        else:
            result = memoised(memo, b"openai_chat/tool", i, msg, diagnostics, _tool_result_at)
        stable = memo is not None and role == "tool"  # result is the memo's own object
        if loop.in_tool_run:
            out[-1] = _tool_run(out[-1] if stable else None, out[-1].parts, result)
        else:
            out.append(_tool_run(out[-1] if stable and out else None, (), result))
        loop.in_tool_run = True
        return
    loop.in_tool_run = False
    if memo is None:
        message = _message(msg, f"messages[{i}]", role, diagnostics)
    else:
        message = memoised(memo, b"openai_chat/message", i, msg, diagnostics, _message_at)
    last = message.parts[-1] if message.parts else None
    if msg.get("function_call") is not None and isinstance(last, ToolCallPart):
        loop.legacy.setdefault(last.name, []).append(last.id)  # _assistant_parts puts it last
    if i == 0 and message.role == "system" and _is_plain_system(message):
        loop.system = tuple(p for p in message.parts if isinstance(p, TextPart))
    else:
        out.append(message)


def _tool_run(anchor: Message | None, parts: tuple[Part, ...], result: ToolResultPart) -> Message:
    """The user message of a tool run so far: ``parts``, then ``result``. With an ``anchor``
    (the message before: the run so far, or what precedes the run, both the memo's objects),
    the same object turn after turn, so what is derived from it is kept too (core/model.py)."""
    if anchor is None:
        return Message("user", (*parts, result))
    facts = derived(anchor)
    key = ("openai_chat.tool_run", bool(parts), id(result))
    kept = facts.get(key)
    if kept is None or kept[0] is not result:  # the pair pins result: its id is not reused
        kept = facts[key] = (result, Message("user", (*parts, result)))
    return cast(Message, kept[1])


def _message_at(i: int, msg: Any, diags: list[Diagnostic]) -> Message:  # of i and msg only
    return _message(msg, f"messages[{i}]", msg["role"], diags)


def _tool_result_at(i: int, msg: Any, diags: list[Diagnostic]) -> ToolResultPart:
    return _tool_result(msg, f"messages[{i}]", diags, {})  # a tool message: of i and msg only


def _is_plain_system(message: Message) -> bool:
    plain = all(isinstance(p, TextPart) for p in message.parts)
    return message.name is None and not message.tools and plain


def _unknown_keys(msg: Mapping[str, Any], param: str) -> list[Diagnostic]:
    return [
        Diagnostic("dropped_message_field", f"{param}.{key} has no canonical form; dropped")
        for key, value in msg.items()
        if key not in _KNOWN_KEYS and key not in _ECHOED_KEYS and value is not None
    ]


def _partial(msg: Mapping[str, Any], param: str, *, is_last: bool) -> bool:
    if not opt_bool(msg.get("partial"), f"{param}.partial"):
        return False
    if not is_last or msg.get("role") != "assistant":
        raise TranslationError(
            "'partial' is only allowed on the last message, which must be an assistant "
            "message (Kimi partial mode).",
            param=f"{param}.partial",
        )
    return True


def _message(msg: Mapping[str, Any], param: str, role: str, diags: list[Diagnostic]) -> Message:
    name = opt_str(msg.get("name"), f"{param}.name")
    content_param = f"{param}.content"
    if role == "assistant":
        return Message("assistant", _assistant_parts(msg, param, diags), name)
    if role in ("system", "developer") and msg.get("tools") is not None:
        return _dynamic_tools(msg, param, name)
    if msg.get("content") is None:
        raise wrong_type(content_param, "a string or an array of content parts", None)
    parts = parse_content(msg.get("content"), content_param)
    return Message("user" if role == "user" else "system", parts, name)


def _dynamic_tools(msg: Mapping[str, Any], param: str, name: str | None) -> Message:
    """Kimi K3's dynamic tools: a system message with ``tools`` (content optional) makes them
    available from its place on (docs/kimi.md §5.1 [O] OAS ``KimiK3DynamicToolMessage``)."""
    raw = as_list(msg.get("tools"), f"{param}.tools")
    tools = tuple(parse_tool(t, f"{param}.tools[{j}]") for j, t in enumerate(raw))
    content = msg.get("content")
    parts = () if content is None else parse_content(content, f"{param}.content")
    return Message("system", parts, name, tools=tools)


def _assistant_parts(
    msg: Mapping[str, Any], param: str, diags: list[Diagnostic]
) -> tuple[Part, ...]:
    parts: list[Part] = []
    thinking = parse_reasoning(msg, param)
    if thinking is not None:
        parts.append(thinking)
    parts.extend(parse_content(msg.get("content"), f"{param}.content"))
    refusal = opt_str(msg.get("refusal"), f"{param}.refusal")
    if refusal is not None:
        parts.append(OpaquePart("refusal", {"type": "refusal", "refusal": refusal}))
    calls = msg.get("tool_calls")
    if calls is not None:
        calls_param = f"{param}.tool_calls"
        for j, call in enumerate(as_list(calls, calls_param)):
            parts.append(parse_tool_call(call, f"{calls_param}[{j}]"))
    if msg.get("function_call") is not None:
        parts.append(_legacy_call(msg.get("function_call"), f"{param}.function_call"))
        diags.append(
            Diagnostic("legacy_function_call", f"{param}.function_call became a tool call")
        )
    return tuple(parts)


def parse_reasoning(msg: Mapping[str, Any], param: str) -> ThinkingPart | None:
    """Reasoning under any of the keys Kimi-compatible servers use (docs/kimi.md §7.2)."""
    text: str | None = None
    for key in ("reasoning_content", "reasoning"):
        if text is None:
            text = opt_str(msg.get(key), f"{param}.{key}")
    raw_details = msg.get("reasoning_details")
    if raw_details is None:
        return None if text is None else ThinkingPart(text)
    details = as_list(raw_details, f"{param}.reasoning_details")
    if text is None:
        text = "".join(_detail_text(entry) for entry in details)
    return ThinkingPart(text, provider_data={"reasoning_details": details})


def _detail_text(entry: Any) -> str:
    """The readable text of one ``reasoning_details`` entry (Kimi ``summary``, OpenRouter
    ``text``); encrypted entries have none."""
    if isinstance(entry, Mapping):
        for key in ("summary", "text"):
            if isinstance(entry.get(key), str):
                return str(entry[key])
    return ""


def parse_tool_call(value: Any, param: str) -> ToolCallPart:
    call = as_object(value, param)
    kind = call.get("type") if call.get("type") is not None else "function"
    if kind not in ("function", "builtin_function"):
        raise TranslationError(
            f"Invalid value for '{param}.type': {kind!r}. Supported values are: 'function' "
            "and 'builtin_function'.",
            param=f"{param}.type",
        )
    function = as_object(call.get("function"), f"{param}.function")
    return ToolCallPart(
        id=as_str(call.get("id"), f"{param}.id"),
        name=as_str(function.get("name"), f"{param}.function.name"),
        arguments=as_str(function.get("arguments"), f"{param}.function.arguments"),
        kind="builtin_function" if kind == "builtin_function" else "function",
    )


def _legacy_call(value: Any, param: str) -> ToolCallPart:
    """A pre-tools ``function_call``, with an id minted from its position (module docstring)."""
    call = as_object(value, param)
    name = as_str(call.get("name"), f"{param}.name")
    arguments = as_str(call.get("arguments"), f"{param}.arguments")
    return ToolCallPart(_legacy_id(name, param), name, arguments)


def _legacy_id(name: str, param: str) -> str:
    """``functions.<name>:<i>`` for ``messages[i]...``."""
    position = param.removeprefix("messages[").split("]", 1)[0]
    return f"functions.{name}:{position}"


def _tool_result(
    msg: Mapping[str, Any], param: str, diags: list[Diagnostic], legacy: dict[str, list[str]]
) -> ToolResultPart:
    name = opt_str(msg.get("name"), f"{param}.name")
    if msg.get("role") == "function":
        name = as_str(msg.get("name"), f"{param}.name")
        pending = legacy.get(name)
        call_id = pending.pop() if pending else _legacy_id(name, param)
        diags.append(Diagnostic("legacy_function_message", f"{param} became a tool result"))
    else:
        call_id = as_str(msg.get("tool_call_id"), f"{param}.tool_call_id")
    content: list[TextPart | ImagePart] = []
    for j, part in enumerate(parse_content(msg.get("content"), f"{param}.content")):
        if isinstance(part, OpaquePart):
            raise TranslationError(
                f"Content parts of type {part.type!r} are not supported in tool messages.",
                param=f"{param}.content[{j}].type",
            )
        if part != TextPart(""):  # "" is an empty result, kept empty (quirks fill it)
            content.append(part)
    return ToolResultPart(call_id, tuple(content), name=name)
