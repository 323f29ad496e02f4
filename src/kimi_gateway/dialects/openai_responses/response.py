"""Non-streaming ``response`` objects ↔ canonical :class:`Response`.

Output items map one to one onto parts: ``reasoning`` → ThinkingPart (summary text, the item's
fields in ``provider_data``), each ``output_text`` / ``refusal`` part of a ``message`` → a
TextPart, ``function_call`` → ToolCallPart (``call_id`` is the id). Other output items
(``web_search_call`` …) have no canonical form: kept as OpaquePart with a Diagnostic. A malformed
upstream reply is the upstream's fault (GatewayError "server", 502), a ``failed`` response
raises its ``error``. Rendering writes ``id`` with a ``resp_`` prefix (added when missing),
item ids derived from it (``rs_`` / ``msg_`` / ``fc_`` + id + output index) so the streamed and
the folded reply agree, and ``created_at`` 0 when unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from kimi_gateway.core.errors import GatewayError, TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    OpaquePart,
    Part,
    Response,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses.content import parse_content
from kimi_gateway.dialects.openai_responses.envelope import Envelope
from kimi_gateway.dialects.openai_responses.errors import error_from_payload
from kimi_gateway.dialects.openai_responses.items import ITEM
from kimi_gateway.dialects.openai_responses.items_render import render_call, render_reasoning
from kimi_gateway.dialects.openai_responses.namespaces import split
from kimi_gateway.dialects.openai_responses.usage import (
    parse_stop,
    parse_usage,
    render_status,
    render_usage,
)
from kimi_gateway.dialects.openai_responses.wire import as_list, as_object, as_str, opt_str

WEB_SEARCH = "$web_search"  # Kimi's built-in search tool (docs/kimi.md §8.5)


def malformed_reply(error: TranslationError) -> GatewayError:
    return GatewayError(
        "server", f"The upstream sent a malformed reply: {error.message}", status=502
    )


def parse_response(body: Mapping[str, Any]) -> Response:
    """An upstream's ``response`` object → Response. Raises GatewayError."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        raise error_from_payload(body, None)  # a failed response, or an error with a 2xx
    try:
        return parse_response_object(body)
    except TranslationError as error:
        raise malformed_reply(error) from error


def parse_response_object(body: Any) -> Response:
    body = as_object(body, "response")
    raw = body.get("output")
    diags: list[Diagnostic] = []
    parts: list[Part] = []
    for i, item in enumerate([] if raw is None else as_list(raw, "output")):
        parts.extend(parse_output_item(item, f"output[{i}]", diags))
    has_calls = any(isinstance(p, ToolCallPart) for p in parts)
    created = body.get("created_at")
    return Response(
        id=opt_str(body.get("id"), "id") or "",
        model=opt_str(body.get("model"), "model") or "",
        parts=tuple(parts),
        stop_reason=parse_stop(body.get("status"), body.get("incomplete_details"), has_calls),
        usage=parse_usage(body.get("usage")) or Usage(),
        created=int(created) if isinstance(created, int | float) and created >= 0 else None,
        diagnostics=tuple(diags),
    )


def parse_output_item(value: Any, param: str, diags: list[Diagnostic]) -> list[Part]:
    item = as_object(value, param)
    kind = as_str(item.get("type"), f"{param}.type")
    if kind == "message":
        content = parse_content(item.get("content") or [], f"{param}.content", diags)
        return [_refusal_text(p) for p in content]
    if kind == "function_call":
        return [
            ToolCallPart(
                id=as_str(item.get("call_id"), f"{param}.call_id"),
                name=as_str(item.get("name"), f"{param}.name"),
                arguments=as_str(item.get("arguments"), f"{param}.arguments"),
            )
        ]
    if kind == "reasoning":
        texts = []
        for j, entry in enumerate(as_list(item.get("summary") or [], f"{param}.summary")):
            entry = as_object(entry, f"{param}.summary[{j}]")
            texts.append(as_str(entry.get("text"), f"{param}.summary[{j}].text"))
        data = {k: item[k] for k in ("encrypted_content",) if item.get(k) is not None}
        return [ThinkingPart("\n\n".join(texts), provider_data=data or None)]
    diags.append(Diagnostic("opaque_item", f"{param}: {kind!r} output items pass on as-is"))
    return [OpaquePart(ITEM, dict(item))]


def _refusal_text(part: Part) -> Part:
    """A refusal is what the model said instead of an answer: its text."""
    if isinstance(part, OpaquePart) and part.type == "refusal":
        refusal = part.data.get("refusal")
        return TextPart(refusal if isinstance(refusal, str) else "")
    return part


def response_id(response: Response) -> str:
    return response.id if response.id.startswith("resp_") else f"resp_{response.id}"


def item_id(prefix: str, rid: str, index: int) -> str:
    return f"{prefix}_{rid.removeprefix('resp_')}_{index}"


def render_output_item(
    part: Part, rid: str, index: int, envelope: Envelope | None = None
) -> dict[str, Any]:
    envelope = envelope or Envelope()
    if isinstance(part, ThinkingPart):
        item = render_reasoning(part, item_id("rs", rid, index))
        if envelope.seal is not None:
            item["encrypted_content"] = envelope.seal(part)
        return item
    if isinstance(part, ToolCallPart):
        if part.name == WEB_SEARCH:  # a "$" name is Kimi's built-in, whatever its call type
            return web_search_item(part, item_id("ws", rid, index))
        item = {**render_call(part, item_id("fc", rid, index)), "status": "completed"}
        return name_call(item, envelope.namespaces)
    if isinstance(part, OpaquePart) and part.type == ITEM:
        return dict(part.data)
    item = message_item(item_id("msg", rid, index), None, "completed")
    if isinstance(part, TextPart):
        item["content"] = [output_text(part.text)]
    elif isinstance(part, OpaquePart) and part.type == "refusal":
        item["content"] = [{**part.data, "type": "refusal"}]
    # Images and other blocks have no reply form (losses.py reports them): an empty message
    # keeps output indexes equal to part indexes, which the stream renderer relies on.
    return item


def name_call(item: dict[str, Any], namespaces: frozenset[str]) -> dict[str, Any]:
    """A function_call item with the name (and namespace) the client declared."""
    namespace, name = split(str(item.get("name", "")), namespaces)
    if namespace is not None:
        item = {**item, "name": name, "namespace": namespace}
    return item


def web_search_item(call: ToolCallPart, wid: str) -> dict[str, Any]:
    """Kimi's ``$web_search`` call as the hosted tool's item. Its arguments are Kimi's search
    context; the query is named only when Kimi's arguments carry one."""
    try:
        args = orjson.loads(call.arguments)
    except orjson.JSONDecodeError:
        args = None
    query = args.get("query") if isinstance(args, dict) else None
    action = {"type": "search", "query": query if isinstance(query, str) else ""}
    return {"id": wid, "type": "web_search_call", "status": "completed", "action": action}


def message_item(mid: str, text: str | None, status: str) -> dict[str, Any]:
    content = [] if text is None else [output_text(text)]
    return {"id": mid, "type": "message", "status": status, "role": "assistant", "content": content}


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def render_response(
    response: Response, status: str | None = None, envelope: Envelope | None = None
) -> dict[str, Any]:
    """Response → ``response`` object. ``status`` overrides the one the stop reason implies
    (the stream renderer uses ``in_progress`` and ``failed``); ``envelope``: the served
    response's id, time, echoed parameters and sealing (envelope.py)."""
    envelope = envelope or Envelope()
    rid = envelope.id or response_id(response)
    final_status, incomplete = render_status(response.stop_reason)
    if status is not None:
        final_status, incomplete = status, None
    output = [render_output_item(p, rid, i, envelope) for i, p in enumerate(response.parts)]
    body: dict[str, Any] = {
        "id": rid,
        "object": "response",
        "created_at": envelope.created_at or response.created or 0,
        "status": final_status,
        "error": None,
        "incomplete_details": incomplete,
        "model": response.model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    body.update(envelope.echo)
    body["usage"] = None if status == "in_progress" else render_usage(response.usage)
    return body
