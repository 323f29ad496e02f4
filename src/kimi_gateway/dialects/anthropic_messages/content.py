"""Anthropic content blocks → canonical parts (the parse direction).

Used for client requests (``messages[].content``) and upstream replies (``content``). Mapping:
``text`` → TextPart; ``image`` → ImagePart (base64, url, Anthropic ``file`` and ``ms://`` URLs →
``source="file"``); ``thinking`` → ThinkingPart (``"signature": ""`` → None: Claude Code sends
that for blocks it got unsigned, docs/kimi.md §F1); ``redacted_thinking`` → ThinkingPart with
``redacted=True`` and ``provider_data={"data": …}``; ``tool_use`` → ToolCallPart (input → compact
JSON text via orjson, id decoded by tool_ids); ``tool_result`` → ToolResultPart; any other block
→ OpaquePart, verbatim. ``cache_control`` anywhere → the part's ``cache`` flag.

Inside ``tool_result`` only text and images exist canonically, so other inner blocks (Claude
Code's ``tool_reference``, documents) become a TextPart holding their JSON, with a
``flattened_block`` Diagnostic: Kimi Code rejects unknown block types (docs/kimi.md §F2.11).
The render direction lives in content_render.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    OpaquePart,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.dialects.anthropic_messages import fields
from kimi_gateway.dialects.anthropic_messages.tool_ids import decode_tool_id

_MS_SCHEME = "ms://"  # Kimi's file reference form for images (docs/kimi.md §9, §16.2)


def parse_content(value: Any, param: str, diags: list[Diagnostic]) -> tuple[Part, ...]:
    """A message's ``content``: a string or an array of blocks."""
    if isinstance(value, str):
        return (TextPart(value),)
    blocks = fields.sequence(value, param)
    return tuple(parse_block(block, f"{param}[{i}]", diags) for i, block in enumerate(blocks))


def parse_block(value: Any, param: str, diags: list[Diagnostic]) -> Part:
    """One top-level content block; unknown types are kept verbatim as OpaquePart."""
    block = fields.mapping(value, param)
    kind = fields.string(block.get("type"), f"{param}.type")
    if kind == "text":
        return _text(block, param, diags)
    if kind == "image":
        return _image(block, param, diags) or OpaquePart(kind, dict(block))
    if kind == "thinking":
        return _thinking(block, param, diags)
    if kind == "redacted_thinking":
        check_keys(block, {"type", "data"}, param, diags)
        data = fields.string(block.get("data"), f"{param}.data")
        return ThinkingPart("", redacted=True, provider_data={"data": data})
    if kind == "tool_use":
        return _tool_use(block, param, diags)
    if kind == "tool_result":
        return _tool_result(block, param, diags)
    return OpaquePart(kind, dict(block))


def parse_cache(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> bool:
    """Whether the block carries a ``cache_control`` breakpoint.

    Only the breakpoint survives canonically; a ``ttl`` or other setting is reported.
    """
    value = block.get("cache_control")
    if value is None:
        return False
    control = fields.mapping(value, f"{param}.cache_control")
    extra = sorted(key for key in control if key != "type" and control[key] is not None)
    if extra:
        detail = f"{param}.cache_control: {', '.join(extra)} not kept (breakpoint only)"
        diags.append(Diagnostic("cache_control_simplified", detail))
    return True


def check_keys(
    block: Mapping[str, Any], known: Iterable[str], param: str, diags: list[Diagnostic]
) -> None:
    """Report every non-null field the canonical model has no place for."""
    allowed = set(known)
    for key in block:
        if key not in allowed and block[key] is not None:
            diags.append(Diagnostic("dropped_field", f"{param}.{key} has no canonical form"))


def _text(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> TextPart:
    check_keys(block, {"type", "text", "cache_control"}, param, diags)
    text = fields.string(block.get("text"), f"{param}.text")
    return TextPart(text, cache=parse_cache(block, param, diags))


def _image(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> ImagePart | None:
    """An image, or None for a source type the canonical model does not know."""
    source = fields.mapping(block.get("source"), f"{param}.source")
    kind = fields.string(source.get("type"), f"{param}.source.type")
    if kind not in ("base64", "url", "file"):
        return None
    check_keys(block, {"type", "source", "cache_control"}, param, diags)
    cache = parse_cache(block, param, diags)
    if kind == "base64":
        data = fields.string(source.get("data"), f"{param}.source.data")
        media = fields.opt_string(source.get("media_type"), f"{param}.source.media_type")
        return ImagePart("base64", data, media_type=media, cache=cache)
    if kind == "url":
        url = fields.string(source.get("url"), f"{param}.source.url")
        if url.startswith(_MS_SCHEME):
            return ImagePart("file", url.removeprefix(_MS_SCHEME), cache=cache)
        return ImagePart("url", url, cache=cache)
    file_id = fields.string(source.get("file_id"), f"{param}.source.file_id")
    return ImagePart("file", file_id, cache=cache)


def _thinking(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> ThinkingPart:
    check_keys(block, {"type", "thinking", "signature", "cache_control"}, param, diags)
    _no_cache(block, param, diags)
    text = fields.string(block.get("thinking"), f"{param}.thinking")
    signature = fields.opt_string(block.get("signature"), f"{param}.signature")
    return ThinkingPart(text, signature=signature or None)


def _tool_use(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> ToolCallPart:
    check_keys(block, {"type", "id", "name", "input", "cache_control"}, param, diags)
    _no_cache(block, param, diags)
    call_id = fields.string(block.get("id"), f"{param}.id")
    name = fields.string(block.get("name"), f"{param}.name")
    arguments = json_text(fields.mapping(block.get("input"), f"{param}.input"), f"{param}.input")
    return ToolCallPart(decode_tool_id(call_id), name, arguments)


def json_text(value: Mapping[str, Any], param: str) -> str:
    """Compact JSON text of a tool input (the contract: orjson, compact)."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise TranslationError(f"{param}: not encodable as JSON ({exc})", param=param) from exc


def _no_cache(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> None:
    if block.get("cache_control") is not None:
        diags.append(Diagnostic("dropped_field", f"{param}.cache_control: no breakpoint here"))


def _tool_result(block: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> ToolResultPart:
    known = {"type", "tool_use_id", "content", "is_error", "cache_control"}
    check_keys(block, known, param, diags)
    call_id = fields.string(block.get("tool_use_id"), f"{param}.tool_use_id")
    is_error = block.get("is_error")
    content = _result_content(block.get("content"), f"{param}.content", diags)
    return ToolResultPart(
        decode_tool_id(call_id),
        content,
        is_error=False if is_error is None else fields.boolean(is_error, f"{param}.is_error"),
        cache=parse_cache(block, param, diags),
    )


def _result_content(
    value: Any, param: str, diags: list[Diagnostic]
) -> tuple[TextPart | ImagePart, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(value),)
    blocks = fields.sequence(value, param)
    return tuple(_result_block(block, f"{param}[{i}]", diags) for i, block in enumerate(blocks))


def _result_block(value: Any, param: str, diags: list[Diagnostic]) -> TextPart | ImagePart:
    block = fields.mapping(value, param)
    kind = fields.string(block.get("type"), f"{param}.type")
    if kind == "text":
        return _text(block, param, diags)
    if kind == "image":
        image = _image(block, param, diags)
        if image is not None:
            return image
    detail = f"{param} ({kind}) became a text part holding its JSON"
    diags.append(Diagnostic("flattened_block", detail))
    return TextPart(json_text(block, param))
