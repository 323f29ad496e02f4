"""Canonical Messages → the Responses ``input`` item list (the reverse of items.py).

User and system Messages become ``message`` items (system as role ``developer``, the Responses
name) with ``input_text`` / ``input_image`` parts; tool results become ``function_call_output``
items in order, the user content around them split into message items. An assistant Message
becomes its items in part order: ThinkingPart → ``reasoning``, runs of text → one ``message``
item with ``output_text`` parts, ToolCallPart → ``function_call``. ``OpaquePart(ITEM)`` renders
as the item it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Message,
    OpaquePart,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.dialects.openai_responses.content import TextKind, render_content
from kimi_gateway.dialects.openai_responses.items import ITEM, THINKING_JOINER


def render_input(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        out.extend(_render_message(message, f"messages[{i}]"))
    return out


def _render_message(message: Message, param: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    run: list[Part] = []
    text_kind: TextKind = "output_text" if message.role == "assistant" else "input_text"
    for j, part in enumerate(message.parts):
        item = _own_item(message, part, f"{param}.parts[{j}]")
        if item is None:
            run.append(part)
            continue
        if run:
            out.append(_message_item(message, run, text_kind, param))
            run = []
        out.append(item)
    if run or not out:
        out.append(_message_item(message, run, text_kind, param))
    return out


def _own_item(message: Message, part: Part, param: str) -> dict[str, Any] | None:
    """The item a part becomes on its own, or None when it belongs in a message item."""
    if isinstance(part, OpaquePart) and part.type == ITEM:
        return dict(part.data)
    assistant = message.role == "assistant"
    if isinstance(part, ToolResultPart) and not assistant:
        return render_tool_result(part, param)
    if isinstance(part, ThinkingPart | ToolCallPart) and assistant:
        return render_reasoning(part) if isinstance(part, ThinkingPart) else render_call(part)
    if isinstance(part, ToolResultPart | ThinkingPart | ToolCallPart):
        raise TranslationError(
            f"A {message.role} message cannot contain a {type(part).__name__}.", param=param
        )
    return None


def _message_item(
    message: Message, parts: list[Part], text_kind: TextKind, param: str
) -> dict[str, Any]:
    role = {"system": "developer"}.get(message.role, message.role)
    content = render_content(tuple(parts), text_kind, f"{param}.parts")
    return {"type": "message", "role": role, "content": content}


def render_tool_result(part: ToolResultPart, param: str) -> dict[str, Any]:
    output: str | list[dict[str, Any]]
    if not part.content:
        output = ""
    elif len(part.content) == 1 and isinstance(part.content[0], TextPart):
        output = part.content[0].text
    else:
        output = render_content(part.content, "input_text", f"{param}.content")
    return {"type": "function_call_output", "call_id": part.tool_call_id, "output": output}


def render_call(call: ToolCallPart, item_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function_call"}
    if item_id is not None:
        out["id"] = item_id
    out.update({"call_id": call.id, "name": call.name, "arguments": call.arguments})
    return out


def render_reasoning(part: ThinkingPart, item_id: str | None = None) -> dict[str, Any]:
    """The item's own fields if it came from Responses; else the text as one summary part.
    (Signatures and redacted thinking have no Responses form.)"""
    data: Mapping[str, Any] = part.provider_data or {}
    out: dict[str, Any] = {"type": "reasoning"}
    if item_id is not None or "id" in data:
        out["id"] = data.get("id", item_id)
    source = data.get("content") if data.get("content") is not None else data.get("summary")
    if source is not None and _joined(source) == part.text:
        out["summary"] = data.get("summary", [])
        if data.get("content") is not None:
            out["content"] = data["content"]
    else:  # not from Responses, or the text was changed since: the text is the summary
        out["summary"] = [{"type": "summary_text", "text": part.text}]
    if data.get("encrypted_content") is not None:
        out["encrypted_content"] = data["encrypted_content"]
    return out


def _joined(summary: Any) -> str | None:
    if not isinstance(summary, list):
        return None
    texts = [entry.get("text") for entry in summary if isinstance(entry, Mapping)]
    if not all(isinstance(text, str) for text in texts):
        return None
    return THINKING_JOINER.join(str(text) for text in texts)
