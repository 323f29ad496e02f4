"""Fix-ups of message content: empty parts, empty tool results, unknown blocks, images, and
replayed ``reasoning_details``.

Each takes the canonical Request and a QuirkContext and returns a new Request. Omitting an empty
part or filling an empty tool result changes no meaning and records nothing; flattening a block
or dropping a message does, and is recorded (or refused in strict mode). http(s) image URLs are
refused (Kimi takes none, and fetching them for a client would be an SSRF hole).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from kimi_gateway.core import history
from kimi_gateway.core.model import (
    ImagePart,
    Message,
    OpaquePart,
    Part,
    Request,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    derived,
)
from kimi_gateway.core.records import replace
from kimi_gateway.upstreams.kimi.policy import QuirkContext, refuse
from kimi_gateway.upstreams.kimi.quirks_tools import normalise_tool_schemas

_HTTP = ("http://", "https://")
# Block types the OpenAI face of Kimi takes as content parts (§5.1 [O]: text, image_url,
# video_url); the dialect keeps video_url as an OpaquePart.
_KIMI_OPENAI_BLOCKS = frozenset({"video_url"})


def _blank(part: Part) -> bool:
    return isinstance(part, TextPart) and not part.text.strip()


def plain(message: Message) -> bool:
    """Whether every content fix-up here leaves ``message`` as it is, whatever the model and
    policy: it has content, and no blank text, opaque block, image, empty or image-carrying
    tool result, or replayed ``reasoning_details`` (an assistant turn: something besides
    thinking). Most of an agent's history; known once per message object (core/model.py
    ``derived``), so the fix-ups below pass a long history with one look-up per message."""
    facts = derived(message)
    known = facts.get("kimi.plain")
    if known is None:
        known = facts["kimi.plain"] = _plain(message)
    return bool(known)


def _all_plain(messages: Sequence[Message], start: int, end: int, found: bool) -> bool:
    """Whether messages[:end] are all :func:`plain`, ``found`` said for messages[:start]
    (core/history.py ``walk``: a long history is not looked at again)."""
    return found and all(plain(messages[i]) for i in range(start, end))


def _plain(message: Message) -> bool:
    substance = False
    for part in message.parts:
        if isinstance(part, TextPart):
            if not part.text.strip():
                return False
            substance = True
        elif isinstance(part, ThinkingPart):
            data = part.provider_data
            if data is not None and data.get("reasoning_details") is not None:
                return False
        elif isinstance(part, ToolResultPart):
            texts = [p.text for p in part.content if isinstance(p, TextPart)]
            if len(texts) != len(part.content) or not any(t.strip() for t in texts):
                return False  # an image inside, or blank (filled)
            substance = True
        elif isinstance(part, ToolCallPart):
            substance = True
        else:  # an image or an opaque block
            return False
    return substance


def fix_content(request: Request, ctx: QuirkContext) -> Request:
    """The content fix-ups below, in order; a conversation whose messages are all
    :func:`plain` needs none of them but the system prompt's."""
    if history.walk(request.messages, "kimi.plain/history", _all_plain, True):
        system = tuple(p for p in request.system if p.text)
        return request if len(system) == len(request.system) else replace(request, system=system)
    for fix in _CONTENT_FIXES:
        request = fix(request, ctx)
    return request


def place_dynamic_tools(request: Request, ctx: QuirkContext) -> Request:
    """§5.1 [O] OAS ``KimiK3DynamicToolMessage``: K3 on the platform's OpenAI face takes a
    system message with ``tools`` and no content anywhere in the conversation; it goes as sent.
    Elsewhere (other models, the Anthropic faces, Kimi Code [?]) its tools are declared with the
    request's own, from the start instead of from that point (recorded), and a message left
    without content is dropped (Kimi rejects empty messages, §2.3)."""
    found = history.tool_messages(request.messages)
    if not found:
        return request
    if ctx.openai and ctx.profile.dynamic_tools:
        return _normalised_dynamic_tools(request, ctx, found)
    names = {t.name for t in request.tools}
    added: list[Tool] = []
    for i in found:
        added.extend(t for t in request.messages[i].tools if t.name not in names)
        names.update(t.name for t in request.messages[i].tools)
    messages = tuple(
        replace(m, tools=()) for m in request.messages if not (m.tools and not m.parts)
    )
    where = ", ".join(f"messages[{i}].tools" for i in found)
    detail = f"{where}: declared with the request's tools (no dynamic tools on {request.model})"
    return replace(
        request,
        tools=(*request.tools, *added),
        messages=messages,
        diagnostics=ctx.note(request, "hoisted_dynamic_tools", detail, "messages"),
    )


def _normalised_dynamic_tools(request: Request, ctx: QuirkContext, found: Sequence[int]) -> Request:
    """The dynamic tools' schemas in MFJS (§8.6), as the request's own tools are."""
    messages = list(request.messages)
    for i in found:
        alone = replace(request, tools=messages[i].tools, response_format=None, diagnostics=())
        fixed = normalise_tool_schemas(alone, ctx)
        notes = tuple(
            replace(d, detail=d.detail.replace("tools[", f"messages[{i}].tools[", 1))
            for d in fixed.diagnostics
        )
        messages[i] = replace(messages[i], tools=fixed.tools)
        request = replace(request, diagnostics=(*request.diagnostics, *notes))
    return replace(request, messages=tuple(messages))


def omit_empty_text(request: Request, ctx: QuirkContext) -> Request:
    """§8.2 [O-code] KOSONG-PY: an empty text part gives 400 "text content is empty" — beside
    tool calls, and in any content array. Blank text carries no meaning, so it is dropped
    silently wherever other content remains; the system prompt loses its "" parts too."""
    messages = tuple(_without_blank(m) for m in request.messages)
    system = tuple(p for p in request.system if p.text)
    return replace(request, messages=messages, system=system)


def _without_blank(message: Message) -> Message:
    if plain(message):
        return message
    kept = tuple(p for p in message.parts if not _blank(p))
    if not kept or len(kept) == len(message.parts):
        return message  # all blank: drop_empty_assistant_turns or Kimi decides
    return replace(message, parts=kept)


def drop_empty_assistant_turns(request: Request, ctx: QuirkContext) -> Request:
    """§2.3 [O-code] KOSONG-TS: "the message at position N with role 'assistant' must not be
    empty" — seen when a client replays a content-filtered reply. Such a turn said nothing;
    it is dropped with a diagnostic (its reasoning, if any, goes with it)."""
    kept: list[Message] = []
    dropped: list[int] = []
    for i, message in enumerate(request.messages):
        if message.role == "assistant" and not plain(message) and _says_nothing(message):
            dropped.append(i)
        else:
            kept.append(message)
    if not dropped:
        return request
    where = ", ".join(f"messages[{i}]" for i in dropped)
    detail = f"{where}: empty assistant message(s) dropped (Kimi rejects them)"
    return replace(
        request,
        messages=tuple(kept),
        diagnostics=ctx.note(request, "dropped_empty_message", detail, f"messages[{dropped[0]}]"),
    )


def _says_nothing(message: Message) -> bool:
    return all(_blank(p) or isinstance(p, ThinkingPart) for p in message.parts)


def fill_empty_user_messages(request: Request, ctx: QuirkContext) -> Request:
    """§5.1 [O]: a message's content must not be empty ("the message at position N with role
    'user' must not be empty"; an all-blank one: "text content is empty", §8.2). OpenAI takes
    an empty user message; it goes as the policy's stated placeholder, with a diagnostic."""
    empty = [
        i
        for i, m in enumerate(request.messages)
        if m.role == "user" and not plain(m) and all(_blank(p) for p in m.parts)
    ]
    if not empty:
        return request
    text = ctx.policy.empty_user_message_text
    messages = list(request.messages)
    for i in empty:
        messages[i] = replace(messages[i], parts=(TextPart(text),))
    where = ", ".join(f"messages[{i}]" for i in empty)
    detail = f"{where}: empty user message(s) sent as {text!r} (Kimi rejects empty messages)"
    return replace(
        request,
        messages=tuple(messages),
        diagnostics=ctx.note(request, "filled_empty_message", detail, f"messages[{empty[0]}]"),
    )


def fill_empty_tool_results(request: Request, ctx: QuirkContext) -> Request:
    """docs/kimi.md §F2.9 (claude-code-router #245): Kimi rejects a tool message without
    content ("must not be empty", §2.3). An empty result becomes the policy's stated
    placeholder, ``(empty)`` by default; the model learns the same thing."""
    filler = (TextPart(ctx.policy.empty_tool_result_text),)

    def fill(part: Part) -> Part:
        if isinstance(part, ToolResultPart) and all(_blank(p) for p in part.content):
            return replace(part, content=filler)
        return part

    return _map_parts(request, fill)


def _map_parts(request: Request, change: Any) -> Request:
    """``change`` applied to every part; a message (and the request) none of whose parts
    changed is kept as it is, so an agent's long unchanged history is not copied part by part
    (issue 15 item 3: these copies were a third of the quirk layer's time on a 150 KB body)."""
    messages = tuple(_changed(m, change) for m in request.messages)
    if all(new is old for new, old in zip(messages, request.messages, strict=True)):
        return request
    return replace(request, messages=messages)


def _changed(message: Message, change: Any) -> Message:
    if plain(message):
        return message
    parts = tuple(change(p) for p in message.parts)
    if all(new is old for new, old in zip(parts, message.parts, strict=True)):
        return message
    return replace(message, parts=parts)


def flatten_opaque_parts(request: Request, ctx: QuirkContext) -> Request:
    """docs/kimi.md §F2.11: blocks Kimi does not know (Claude Code's ``tool_reference``, a
    ``refusal``, Anthropic ``document``…) are rejected; they are sent as text instead."""
    keep = _KIMI_OPENAI_BLOCKS if ctx.openai and ctx.profile.video_input else frozenset()
    notes: list[str] = []
    messages: list[Message] = []
    for i, message in enumerate(request.messages):
        if plain(message):
            messages.append(message)
            continue
        parts: list[Part] = []
        flattened = len(notes)
        for j, part in enumerate(message.parts):
            if isinstance(part, OpaquePart) and part.type not in keep:
                notes.append(f"messages[{i}].content[{j}] ({part.type})")
                part = TextPart(opaque_text(part))
            parts.append(part)
        messages.append(replace(message, parts=tuple(parts)) if len(notes) > flattened else message)
    if not notes:
        return request
    detail = f"{', '.join(notes)}: block(s) Kimi does not accept sent as text"
    return replace(
        request,
        messages=tuple(messages),
        diagnostics=ctx.note(request, "flattened_block", detail, "messages"),
    )


def opaque_text(part: OpaquePart) -> str:
    """A block's visible text when it has one, else its JSON under its type name."""
    data = part.data
    for key in ("text", "refusal", "tool_name", "content"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    rest = {k: v for k, v in data.items() if k != "type"}
    return f"[{part.type}] {orjson.dumps(rest, default=str).decode()}"


def _images(request: Request) -> list[tuple[str, ImagePart]]:
    found: list[tuple[str, ImagePart]] = []
    for i, message in enumerate(request.messages):
        if plain(message):
            continue
        for j, part in enumerate(message.parts):
            if isinstance(part, ImagePart):
                found.append((f"messages[{i}].content[{j}]", part))
            if isinstance(part, ToolResultPart):
                for k, inner in enumerate(part.content):
                    if isinstance(inner, ImagePart):
                        found.append((f"messages[{i}].content[{j}].content[{k}]", inner))
    return found


def _is_http(part: ImagePart) -> bool:
    return part.source == "url" and part.data.lower().startswith(_HTTP)


def check_images(request: Request, ctx: QuirkContext) -> Request:
    """§5.2/§13.3: Kimi takes base64 data or ``ms://`` uploads, not http(s) URLs ("unsupported
    image url"); fetching them would let any client make the gateway fetch any URL (SSRF), so
    they are refused with what to send instead. Models without image input refuse images."""
    for param, part in _images(request):
        if not ctx.profile.image_input:
            raise refuse(f"{request.model} does not accept image input", param)
        if _is_http(part):
            raise refuse(
                "Kimi does not accept image URLs ('unsupported image url'); "
                "send the image as base64 data or upload it and use ms://<file_id>",
                f"{param}.image_url.url",
            )
    return request


def clean_reasoning_details(request: Request, ctx: QuirkContext) -> Request:
    """§7.2 [3M] OPENCODE #50232: Kimi Code refuses replayed ``reasoning_details`` entries that
    keep their streaming ``index`` ("must not contain streaming index"). Pieces sharing an index
    are joined and the index dropped, as Moonshot's fix does; the meaning is unchanged."""

    def clean(part: Part) -> Part:
        data = part.provider_data if isinstance(part, ThinkingPart) else None
        details = None if data is None else data.get("reasoning_details")
        if not isinstance(part, ThinkingPart) or not isinstance(details, list):
            return part
        if not any(isinstance(d, Mapping) and "index" in d for d in details):
            return part
        return replace(part, provider_data={**(data or {}), "reasoning_details": _merged(details)})

    return _map_parts(request, clean)


def _merged(details: list[Any]) -> list[Any]:
    by_index: dict[Any, dict[str, Any]] = {}
    out: list[Any] = []
    for entry in details:
        if not isinstance(entry, Mapping) or "index" not in entry:
            out.append(entry)
            continue
        body = {k: v for k, v in entry.items() if k != "index"}
        seen = by_index.get(entry["index"])
        if seen is None:
            by_index[entry["index"]] = body
            out.append(body)
            continue
        for key, value in body.items():
            if isinstance(value, str) and isinstance(seen.get(key), str) and key != "type":
                seen[key] += value
            else:
                seen.setdefault(key, value)
    return out


_CONTENT_FIXES = (
    flatten_opaque_parts,
    omit_empty_text,
    drop_empty_assistant_turns,
    fill_empty_tool_results,
    fill_empty_user_messages,
    clean_reasoning_details,
    check_images,
)
