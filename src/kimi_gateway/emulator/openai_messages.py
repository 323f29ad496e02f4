"""Kimi's rules for the `messages` of an OpenAI-dialect request, and their neutral view.

Checks roles, empty content, the `reasoning_content` of thinking tool-call turns, tool results
that answer no call, http image URLs and Kimi Code's replayed `reasoning_details`
(docs/kimi.md §2.3, §5.1, §5.2, §7.2, §8.2, §8.3), and turns each message into a
script.NeutralMessage. K3 dynamic tools (a system message with `tools` and no content, §5.1)
add to the offered tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kimi_gateway.emulator import errors
from kimi_gateway.emulator.errors import invalid_request
from kimi_gateway.emulator.script import NeutralMessage

ROLES = ("system", "user", "assistant", "tool")


@dataclass
class MessageRules:
    thinking: bool
    reject_http_images: bool
    kimi_code: bool


@dataclass
class _Seen:
    call_ids: set[str] = field(default_factory=set)
    dynamic_tools: list[str] = field(default_factory=list)


def _is_empty(content: Any) -> bool:
    return content is None or content == "" or content == []


def _check_image(url: Any, rules: MessageRules) -> None:
    if not isinstance(url, str) or not url:
        raise errors.unsupported_image_url()
    if url.startswith(("http://", "https://")) and rules.reject_http_images:
        # §5.2: [O] KCDOCS on Kimi Code, [3M] HALRO on the platform; HC disagrees ([?]).
        raise errors.unsupported_image_url()


def _part_text(part: Any, rules: MessageRules) -> str:
    if not isinstance(part, dict):
        raise invalid_request("Invalid request: content parts must be objects")  # invented
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str) or text == "":
            raise errors.text_content_empty()
        return text
    if kind == "image_url":
        image = part.get("image_url")
        _check_image(image.get("url") if isinstance(image, dict) else image, rules)
        return ""
    if kind == "video_url":
        return ""
    raise invalid_request(f"Invalid request: unsupported content type {kind}")  # invented


def content_text(content: Any, rules: MessageRules) -> str | None:
    """The joined text of a content value; None when absent; raises on empty text parts."""
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(part, rules) for part in content) if content else ""
    raise invalid_request("Invalid request: content must be a string or an array")  # invented


def _images(message: dict[str, Any]) -> int:
    content = message.get("content")
    parts = content if isinstance(content, list) else []
    return sum(1 for part in parts if isinstance(part, dict) and part.get("type") == "image_url")


def _check_reasoning_details(index: int, message: dict[str, Any]) -> None:
    details = message.get("reasoning_details")
    if not isinstance(details, list):
        return
    for entry, item in enumerate(details):
        if isinstance(item, dict) and "index" in item:
            # §2.3/§7.2 [3M] OPENCODE #50232.
            raise invalid_request(
                f"the reasoning_details at position {index} entry {entry} "
                "must not contain streaming index"
            )


def _assistant(index: int, message: dict[str, Any], rules: MessageRules, seen: _Seen) -> str:
    calls = message.get("tool_calls") or []
    text = content_text(message.get("content"), rules)
    if calls and message.get("content") == "":
        raise errors.text_content_empty()  # §8.2: omit content beside tool_calls, never send ""
    if not calls and _is_empty(message.get("content")):
        raise errors.empty_message(index, "assistant")
    if rules.kimi_code:
        _check_reasoning_details(index, message)
    if calls and rules.thinking and message.get("reasoning_content") is None:
        # §2.3/§8.3 [O] KCDOCS / platform thinking guide.
        raise invalid_request(
            "thinking is enabled but reasoning_content is missing in assistant tool call "
            f"message at index {index}"
        )
    pieces = [text or ""]
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(call.get("id"), str):
            raise invalid_request("Invalid request: malformed tool_calls")  # invented
        seen.call_ids.add(call["id"])
        pieces.append(f"{function.get('name', '')}{function.get('arguments', '')}")
    return "".join(pieces)


def _tool(index: int, message: dict[str, Any], rules: MessageRules, seen: _Seen) -> str:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or call_id not in seen.call_ids:
        raise errors.tool_call_not_found(call_id if isinstance(call_id, str) else "")
    if _is_empty(message.get("content")):
        raise errors.empty_message(index, "tool")
    return content_text(message.get("content"), rules) or ""


def neutral_messages(
    messages: Any, rules: MessageRules
) -> tuple[tuple[NeutralMessage, ...], tuple[str, ...]]:
    """Validate the messages; return their neutral view and the K3 dynamic tool names."""
    if not isinstance(messages, list) or not messages:
        raise errors.no_messages()
    seen = _Seen()
    out: list[NeutralMessage] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            role = message.get("role") if isinstance(message, dict) else None
            # §5.2: `developer` is not a Kimi role; the text is invented.
            raise invalid_request(f"Invalid request: unsupported role {role}")
        role, images = message["role"], _images(message)
        if role == "assistant":
            out.append(NeutralMessage(role, _assistant(index, message, rules, seen), (), images))
        elif role == "tool":
            out.append(NeutralMessage(role, "", (_tool(index, message, rules, seen),), images))
        elif role == "system" and "tools" in message and message.get("content") is None:
            seen.dynamic_tools.extend(_dynamic_tool_names(message["tools"]))
        else:
            if _is_empty(message.get("content")):
                raise errors.empty_message(index, role)
            text = content_text(message.get("content"), rules) or ""
            out.append(NeutralMessage(role, text, (), images))
    return tuple(out), tuple(seen.dynamic_tools)


def _dynamic_tool_names(tools: Any) -> list[str]:
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names
