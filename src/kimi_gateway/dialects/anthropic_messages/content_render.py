"""Canonical parts → Anthropic content blocks (the render direction of content.py).

Rules that are ours, not Anthropic's:

- A content holding exactly one TextPart without a cache breakpoint renders as a plain string
  (message ``content``, ``system`` and ``tool_result.content`` alike); anything else as blocks.
- In a ``user`` message, ``tool_result`` blocks come first (Anthropic requires them to lead the
  message that answers a ``tool_use``); the other parts keep their order after them.
- Tool ids are encoded by tool_ids (Kimi's ``name:0`` → ``kx…``); ``tool_use.input`` is the
  arguments JSON text parsed back; text that is not a JSON object renders as
  ``{"_raw": text}`` (never silently ``{}``) and is reported by :func:`tool_input`.
- A ThinkingPart without a signature renders ``"signature": ""`` to clients (the contract: never
  a fake signature) but *no* ``signature`` key in requests to an upstream: Kimi accepts unsigned
  thinking on replay (docs/kimi.md §13.3), while an empty string would claim a signature.
- ImagePart ``source="file"`` renders as a ``url`` source ``ms://<id>``, the only file-reference
  form Kimi documents (docs/kimi.md §9, §16.2); ``detail`` has no Anthropic form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    OpaquePart,
    Part,
    Role,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.dialects.anthropic_messages.tool_ids import encode_tool_id

_CACHE_CONTROL = {"type": "ephemeral"}


def render_content(
    parts: Sequence[Part], *, role: Role = "assistant", to_client: bool = False
) -> str | list[dict[str, Any]]:
    """A message's ``content``; tool results lead a user message."""
    if role == "user":
        results = [part for part in parts if isinstance(part, ToolResultPart)]
        parts = [*results, *(part for part in parts if not isinstance(part, ToolResultPart))]
    if len(parts) == 1 and isinstance(parts[0], TextPart) and not parts[0].cache:
        return parts[0].text
    return [render_block(part, to_client=to_client) for part in parts]


def render_block(part: Part, *, to_client: bool = False) -> dict[str, Any]:
    """One content block."""
    if isinstance(part, TextPart):
        return _cached({"type": "text", "text": part.text}, part.cache)
    if isinstance(part, ImagePart):
        return _cached({"type": "image", "source": _image_source(part)}, part.cache)
    if isinstance(part, ThinkingPart):
        return _thinking(part, to_client=to_client)
    if isinstance(part, ToolCallPart):
        arguments, _ = tool_input(part.arguments)
        return {
            "type": "tool_use",
            "id": encode_tool_id(part.id),
            "name": part.name,
            "input": arguments,
        }
    if isinstance(part, ToolResultPart):
        return _tool_result(part)
    return _opaque(part)


def tool_input(arguments: str) -> tuple[dict[str, Any], Diagnostic | None]:
    """``tool_use.input`` from arguments JSON text, and a Diagnostic when it is not an object.

    Empty text means no arguments (``{}``). Anything else that is not a JSON object is wrapped as
    ``{"_raw": text}`` so the client's tool validation fails loudly and the model can retry.
    """
    if not arguments.strip():
        return {}, None
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        return value, None
    detail = f"tool arguments are not a JSON object; sent as {{'_raw': …}}: {arguments[:80]!r}"
    return {"_raw": arguments}, Diagnostic("invalid_tool_arguments", detail)


def _cached(block: dict[str, Any], cache: bool) -> dict[str, Any]:
    if cache:
        block["cache_control"] = dict(_CACHE_CONTROL)
    return block


def _image_source(part: ImagePart) -> dict[str, Any]:
    if part.source == "base64":
        source: dict[str, Any] = {"type": "base64"}
        if part.media_type is not None:
            source["media_type"] = part.media_type
        source["data"] = part.data
        return source
    if part.source == "file":
        return {"type": "url", "url": "ms://" + part.data}
    return {"type": "url", "url": part.data}


def _thinking(part: ThinkingPart, *, to_client: bool) -> dict[str, Any]:
    if part.redacted:
        data = (part.provider_data or {}).get("data")
        return {"type": "redacted_thinking", "data": data if isinstance(data, str) else ""}
    block: dict[str, Any] = {"type": "thinking", "thinking": part.text}
    if part.signature is not None or to_client:
        block["signature"] = part.signature or ""
    return block


def _tool_result(part: ToolResultPart) -> dict[str, Any]:
    call_id = encode_tool_id(part.tool_call_id)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if part.content:
        block["content"] = render_content(part.content, role="user")
    block["is_error"] = part.is_error
    return _cached(block, part.cache)


def _opaque(part: OpaquePart) -> dict[str, Any]:
    return {**part.data, "type": part.type}
