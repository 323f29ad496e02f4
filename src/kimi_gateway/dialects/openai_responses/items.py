"""The ``input`` field (a string or a list of items) → canonical Messages.

Items: ``message`` (also without ``type``, the "easy" form) with role user / assistant / system /
developer (``developer`` parses as ``system``; every system item stays a ``Message(role=
"system")``, only ``instructions`` is ``Request.system``); ``function_call`` → ToolCallPart,
``reasoning`` → ThinkingPart and assistant ``message`` items: consecutive ones are one assistant
turn, so they form one assistant Message; ``function_call_output`` → ToolResultPart of a user
Message (consecutive outputs merged, as the chat dialect does with ``tool`` messages). Any other
item (``item_reference``, ``local_shell_call``, ``custom_tool_call``, ``compaction`` …) is kept
verbatim as ``OpaquePart(ITEM, item)`` with a Diagnostic: on the assistant side when its type
ends in ``_call``, else on the user side. The ``id`` / ``status`` / ``phase`` of message and
function-call items carry no meaning for a model and are dropped (a documented normalisation, not
a Diagnostic); a reasoning item keeps its fields in ``provider_data``. A ``namespace`` on a
function call is dropped with a Diagnostic (namespace tools are not offered, tools.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    Part,
    Role,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.records import replace
from kimi_gateway.dialects.openai_responses.content import parse_content
from kimi_gateway.dialects.openai_responses.wire import (
    as_list,
    as_object,
    as_str,
    bad_value,
    opt_str,
)

ITEM = "responses_item"  # OpaquePart.type of a whole input item kept verbatim
THINKING_JOINER = "\n\n"  # between the summary texts of one reasoning item
_ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "system",
}
_REASONING_KEYS = ("id", "summary", "content", "encrypted_content")

Unseal = Callable[[str], ThinkingPart | None]
"""Opens a reasoning item's ``encrypted_content`` (seal.py); None: not verifiable."""


def parse_input(
    value: Any, diags: list[Diagnostic], unseal: Unseal | None = None
) -> tuple[Message, ...]:
    if isinstance(value, str):
        return (Message("user", (TextPart(value),)),)
    items = as_list(value, "input")
    out: list[Message] = []
    for i, raw in enumerate(items):
        param = f"input[{i}]"
        item = as_object(raw, param)
        role, parts = _item(item, param, diags, unseal)
        _append(out, role, parts, merge=_merges(item, role))
    return tuple(out)


def _merges(item: Mapping[str, Any], role: Role) -> bool:
    """Assistant-side items join the assistant turn before them; tool outputs join the outputs
    before them; user and system messages always start a new Message."""
    if role == "assistant":
        return True
    return bool(item.get("type", "message") != "message")


def _append(out: list[Message], role: Role, parts: tuple[Part, ...], *, merge: bool) -> None:
    if merge and out and out[-1].role == role and _same_run(out[-1], role):
        out[-1] = Message(role, (*out[-1].parts, *parts))
    else:
        out.append(Message(role, parts))


def _same_run(last: Message, role: Role) -> bool:
    if role == "assistant":
        return True
    # A user Message built from tool outputs / opaque items, not from a user message item.
    return all(isinstance(p, ToolResultPart | OpaquePart) for p in last.parts) and any(
        isinstance(p, ToolResultPart) or (isinstance(p, OpaquePart) and p.type == ITEM)
        for p in last.parts
    )


def _item(
    item: Mapping[str, Any], param: str, diags: list[Diagnostic], unseal: Unseal | None
) -> tuple[Role, tuple[Part, ...]]:
    kind = item.get("type", "message")
    if kind == "message":
        return _message(item, param, diags)
    if kind == "function_call":
        return "assistant", (_function_call(item, param, diags),)
    if kind == "function_call_output":
        return "user", (_function_output(item, param, diags),)
    if kind == "reasoning":
        return "assistant", (_reasoning(item, param, diags, unseal),)
    name = as_str(kind, f"{param}.type")
    diags.append(Diagnostic("opaque_item", f"{param}: {name!r} items pass only to Responses"))
    side: Role = "assistant" if name.endswith("_call") else "user"
    return side, (OpaquePart(ITEM, dict(item)),)


def _message(
    item: Mapping[str, Any], param: str, diags: list[Diagnostic]
) -> tuple[Role, tuple[Part, ...]]:
    raw_role = item.get("role")
    role = _ROLES.get(raw_role) if isinstance(raw_role, str) else None
    if role is None:
        raise bad_value(f"{param}.role", raw_role, "'user', 'assistant', 'system', 'developer'")
    return role, parse_content(item.get("content"), f"{param}.content", diags)


def _function_call(item: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> ToolCallPart:
    if item.get("namespace") is not None:
        diags.append(Diagnostic("dropped_namespace", f"{param}.namespace has no canonical form"))
    return ToolCallPart(
        id=as_str(item.get("call_id"), f"{param}.call_id"),
        name=as_str(item.get("name"), f"{param}.name"),
        arguments=as_str(item.get("arguments"), f"{param}.arguments"),
    )


def _function_output(
    item: Mapping[str, Any], param: str, diags: list[Diagnostic]
) -> ToolResultPart:
    call_id = as_str(item.get("call_id"), f"{param}.call_id")
    output = item.get("output")
    content: list[TextPart | ImagePart] = []
    for j, part in enumerate(parse_content(output, f"{param}.output", diags)):
        if isinstance(part, OpaquePart):
            raise TranslationError(
                f"Output parts of type {part.type!r} are not supported in function_call_output.",
                param=f"{param}.output[{j}].type",
            )
        if part != TextPart(""):  # "" is an empty result, kept empty (quirks fill it)
            content.append(part)
    return ToolResultPart(call_id, tuple(content))


def _reasoning(
    item: Mapping[str, Any], param: str, diags: list[Diagnostic], unseal: Unseal | None
) -> ThinkingPart:
    """Readable text from ``content`` (raw reasoning) if present, else from ``summary``; the
    item's own fields ride along in ``provider_data`` so it renders back as it came. With an
    ``unseal``, a verified ``encrypted_content`` is the part itself (seal.py): the summary may
    have been cut or edited by the client; one that does not verify is ignored, with a
    Diagnostic."""
    texts: list[str] = []
    for key in ("content", "summary"):
        raw = item.get(key)
        if raw is None or texts:
            continue
        for j, entry in enumerate(as_list(raw, f"{param}.{key}")):
            entry = as_object(entry, f"{param}.{key}[{j}]")
            texts.append(as_str(entry.get("text"), f"{param}.{key}[{j}].text"))
    sealed = opt_str(item.get("encrypted_content"), f"{param}.encrypted_content")
    data = {key: item[key] for key in _REASONING_KEYS if item.get(key) is not None}
    if unseal is not None and sealed is not None:
        part = unseal(sealed)
        if part is not None:
            return replace(part, provider_data={**(part.provider_data or {}), **data})
        diags.append(
            Diagnostic(
                "unverified_reasoning",
                f"{param}.encrypted_content was not sealed by this gateway; its summary is used",
            )
        )
    return ThinkingPart(THINKING_JOINER.join(texts), provider_data=data or None)
