"""Kimi's rules for the `system` and `messages` of an Anthropic Messages request, and their
neutral view (a tuple of script.NeutralMessage).

What belongs here: roles, content blocks and their per-block rules, tool_use/tool_result pairing,
thinking-signature checks on replay, image sources, `tool_reference` blocks. Top-level fields
(model, max_tokens, tools, tool_choice, thinking…) live in `anthropic_request`.

Accepted as real clients send them (docs/kimi.md §F1): `system` as a string or text blocks with
`cache_control`; a `role:"system"` message inside `messages` (Claude Code's mid-conversation
system beta); two consecutive `user` messages (OpenClaw); tool_result content as a string or a
block array; thinking blocks replayed with `"signature": ""`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from kimi_gateway.emulator import errors
from kimi_gateway.emulator.errors import invalid_request
from kimi_gateway.emulator.script import NeutralMessage

ROLES = ("user", "assistant", "system")

# Kimi Code's answer to Claude Code's `tool_reference` blocks inside tool_result content:
# 400 invalid_request_error "Invalid request Error" ([3M] MoonshotAI/kimi-cli #1449,
# farion1231/cc-switch #2941; docs/kimi.md §F2.11).
TOOL_REFERENCE_MESSAGE = "Invalid request Error"

# Block types a tool_result's content may carry besides the switchable `tool_reference`.
_TOOL_RESULT_BLOCKS = ("text", "image", "document", "search_result")


@dataclass(frozen=True)
class ContentPolicy:
    """Per-face switches for the content rules."""

    reject_url_images: bool  # EmulatorConfig.reject_http_image_urls (§5.2, §13.3)
    reject_tool_reference: bool  # Kimi Code, docs/kimi.md §F2.11
    # Check replayed thinking signatures with this key (Kimi Code, §13.3); None = never check.
    check_signature: Callable[[str, str], bool] | None = None


@dataclass
class _Seen:
    tool_use_ids: set[str] = field(default_factory=set)


def _where(index: int, block: int | None = None) -> str:
    return f"messages.{index}" if block is None else f"messages.{index}.content.{block}"


def _text_of(block: dict[str, Any]) -> str:
    text = block.get("text")
    if not isinstance(text, str) or text == "":
        raise errors.text_content_empty()
    return text


def _check_image(block: dict[str, Any], where: str, policy: ContentPolicy) -> None:
    source = block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if kind == "base64" and isinstance(source, dict) and isinstance(source.get("data"), str):
        return
    if kind == "url" and not policy.reject_url_images:
        return
    if kind == "url":
        raise errors.unsupported_image_url()  # §13.3: base64 only
    raise invalid_request(f"{where}.source: unsupported image source")  # invented


def _tool_result_part(part: Any, where: str, policy: ContentPolicy) -> str:
    if not isinstance(part, dict):
        raise invalid_request(f"{where}: content blocks must be objects")  # invented
    kind = part.get("type")
    if kind == "text":
        return _text_of(part)
    if kind == "image":
        _check_image(part, where, policy)
        return ""
    if kind in _TOOL_RESULT_BLOCKS:
        return str(part.get("text") or "")
    if policy.reject_tool_reference:
        raise invalid_request(TOOL_REFERENCE_MESSAGE)
    # With the switch off, unknown blocks (tool_reference…) are read as their visible name.
    return str(part.get("tool_name") or part.get("text") or "")


def _tool_result(block: dict[str, Any], where: str, policy: ContentPolicy, seen: _Seen) -> str:
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or tool_use_id not in seen.tool_use_ids:
        # §2.3 [O-code] KOSONG-TS: the OpenAI face's text; the Anthropic route maps
        # tool_result onto the same tool message, so the same check applies.
        raise errors.tool_call_not_found(tool_use_id if isinstance(tool_use_id, str) else "")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise invalid_request(f"{where}.content: must be a string or an array")  # invented
    parts = (_tool_result_part(p, f"{where}.content.{i}", policy) for i, p in enumerate(content))
    return "\n".join(p for p in parts if p)


def _check_thinking(block: dict[str, Any], where: str, policy: ContentPolicy) -> str:
    thinking = block.get("thinking")
    signature = block.get("signature", "")
    if not isinstance(thinking, str) or not isinstance(signature, str):
        raise invalid_request(f"{where}: thinking and signature must be strings")  # invented
    check = policy.check_signature
    if check is not None and signature and not check(thinking, signature):
        # §13.3 [3M] HERMES PR #18898: Kimi Code refuses thinking blocks that were not replayed
        # intact. The text is Anthropic's own for the same refusal (Kimi's is unpublished).
        raise invalid_request(f"{where}: Invalid `signature` in `thinking` block")
    # An empty signature is accepted: Claude Code replays unsigned blocks with "" (docs/kimi.md
    # §F1), and §13.3 asks the emulator to accept unsigned blocks on replay.
    return thinking


class _MessageReader:
    """Reads one message's blocks into text and tool results, enforcing the block rules."""

    def __init__(self, index: int, role: str, policy: ContentPolicy, seen: _Seen) -> None:
        self.index, self.role, self.policy, self.seen = index, role, policy, seen
        self.texts: list[str] = []
        self.results: list[str] = []
        self.images = 0

    def block(self, position: int, block: Any) -> None:
        where = _where(self.index, position)
        if not isinstance(block, dict):
            raise invalid_request(f"{where}: content blocks must be objects")  # invented
        kind = block.get("type")
        handler = self._handlers().get(kind if isinstance(kind, str) else "")
        if handler is None:
            # Invented text: Kimi publishes no message for an unknown block type here.
            raise invalid_request(f"{where}: unsupported content block type '{kind}'")
        handler(block, where)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], str], None]]:
        handlers: dict[str, Callable[[dict[str, Any], str], None]] = {
            "text": lambda b, w: self.texts.append(_text_of(b)),
            "image": self._image,
            "document": lambda b, w: None,
        }
        if self.role == "user":
            handlers["tool_result"] = self._tool_result
        if self.role == "assistant":
            handlers["tool_use"] = self._tool_use
            handlers["thinking"] = self._thinking
            handlers["redacted_thinking"] = lambda b, w: None
        return handlers

    def _image(self, block: dict[str, Any], where: str) -> None:
        _check_image(block, where, self.policy)
        self.images += 1

    def _tool_result(self, block: dict[str, Any], where: str) -> None:
        self.results.append(_tool_result(block, where, self.policy, self.seen))
        content = block.get("content")
        parts = content if isinstance(content, list) else []
        self.images += sum(1 for p in parts if isinstance(p, dict) and p.get("type") == "image")

    def _thinking(self, block: dict[str, Any], where: str) -> None:
        _check_thinking(block, where, self.policy)

    def _tool_use(self, block: dict[str, Any], where: str) -> None:
        tool_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
        if not isinstance(tool_id, str) or not tool_id or not isinstance(name, str):
            raise invalid_request(f"{where}: tool_use needs an id and a name")  # invented
        if not isinstance(arguments, dict):
            raise invalid_request(f"{where}.input: must be an object")  # invented
        self.seen.tool_use_ids.add(tool_id)
        self.texts.append(name + orjson.dumps(arguments).decode())


def _read_message(index: int, message: Any, policy: ContentPolicy, seen: _Seen) -> NeutralMessage:
    role = message.get("role") if isinstance(message, dict) else None
    if role not in ROLES or not isinstance(message, dict):
        # Invented text (Kimi's is unpublished); Anthropic's own names the two roles.
        raise invalid_request(f"{_where(index)}.role: unsupported role {role}")
    content = message.get("content")
    if content is None or content == "" or content == []:
        raise errors.empty_message(index, role)
    if isinstance(content, str):
        return NeutralMessage(role, content)
    if not isinstance(content, list):
        raise invalid_request(f"{_where(index)}.content: must be a string or an array")
    reader = _MessageReader(index, role, policy, seen)
    for position, block in enumerate(content):
        reader.block(position, block)
    return NeutralMessage(role, "\n".join(reader.texts), tuple(reader.results), reader.images)


def neutral_messages(messages: Any, policy: ContentPolicy) -> tuple[NeutralMessage, ...]:
    """Validate `messages` in order and return their neutral view."""
    if not isinstance(messages, list) or not messages:
        raise errors.no_messages()
    seen = _Seen()
    return tuple(_read_message(i, m, policy, seen) for i, m in enumerate(messages))


def system_message(system: Any) -> NeutralMessage | None:
    """The top-level `system` (a string or text blocks) as one neutral system message."""
    if system is None or system == "" or system == []:
        return None
    if isinstance(system, str):
        return NeutralMessage("system", system)
    if not isinstance(system, list):
        raise invalid_request("system: must be a string or an array of text blocks")  # invented
    texts: list[str] = []
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise invalid_request(f"system.{i}: only text blocks are allowed")  # invented
        texts.append(_text_of(block))
    return NeutralMessage("system", "\n".join(texts))


def missing_thinking(messages: Any) -> int | None:
    """The index of the first assistant message with a `tool_use` block and no `thinking` or
    `redacted_thinking` block (the rule of AnthropicSwitches.require_replayed_thinking), or
    None. `messages` was validated by :func:`neutral_messages` already."""
    for index, message in enumerate(messages if isinstance(messages, list) else ()):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        if not isinstance(content, list):
            continue
        kinds = {block.get("type") for block in content if isinstance(block, dict)}
        if "tool_use" in kinds and not kinds & {"thinking", "redacted_thinking"}:
            return index
    return None


def thinking_missing_error(index: int) -> errors.EmulatorError:
    """The 400 for :func:`missing_thinking`. Invented wording (Kimi's is not captured), shaped
    after the OpenAI face's "thinking is enabled but reasoning_content is missing …" (§2.3)."""
    return invalid_request(
        "thinking is enabled but the thinking block is missing in assistant tool_use message "
        f"at index {index}"
    )
