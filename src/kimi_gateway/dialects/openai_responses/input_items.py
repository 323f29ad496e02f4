"""Input items as a server keeps and lists them, and a stored conversation as input again.

``reference`` reads an ``item_reference`` (what the Vercel AI SDK sends for an earlier output item
of a stored response) that names one of this server's output items: their ids are built from
the response id and the output index (response.item_id), so the item is found without an index.
``own_items`` turns a request's ``input`` (a string, or items in the "easy" form without
``type``) into typed items with ids, what ``GET /v1/responses/{id}/input_items`` lists.
``conversation`` is the input that continues a stored chain: each earlier turn's input items and
output items, in order (its ``instructions`` are not carried over: the API's rule). Reasoning
output items keep their sealed ``encrypted_content``, so parsing them restores Kimi's reasoning
(seal.py). Pure wire → wire; ids come from the caller's ``new_id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kimi_gateway.dialects.openai_responses.wire import as_list, as_object

_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
    "web_search_call": "ws",
}
_OUTPUT_ITEM_ID = re.compile(r"(?:rs|msg|fc|ws)_([0-9a-f]+)_([0-9]+)")
# Item fields a listing does not show (how the API lists input items).
_HIDDEN = frozenset({"encrypted_content"})


def own_items(value: Any, new_id: Callable[[str], str]) -> list[dict[str, Any]]:
    """A request's ``input`` as typed items, each with an ``id``."""
    if isinstance(value, str):
        value = [{"type": "message", "role": "user", "content": value}]
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(as_list(value, "input")):
        item = dict(as_object(raw, f"input[{i}]"))
        kind = item.setdefault("type", "message")
        if kind == "message" and isinstance(item.get("content"), str):
            text_type = "output_text" if item.get("role") == "assistant" else "input_text"
            item["content"] = [{"type": text_type, "text": item["content"]}]
        if not isinstance(item.get("id"), str):
            item["id"] = new_id(_PREFIX.get(str(kind), "item"))
        out.append(item)
    return out


def conversation(
    turns: Iterable[tuple[Sequence[Mapping[str, Any]], Mapping[str, Any]]],
) -> list[Any]:
    """The items of stored turns ``(input items, response object)``, oldest first."""
    out: list[Any] = []
    for items, response in turns:
        out.extend(items)
        output = response.get("output")
        if isinstance(output, list):
            out.extend(output)
    return out


def listed(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as an input-items listing shows it."""
    return {k: v for k, v in item.items() if k not in _HIDDEN}


def reference(item: Mapping[str, Any]) -> tuple[str, int] | None:
    """(response id, output index) of an ``item_reference`` to one of our output items."""
    if item.get("type") != "item_reference":
        return None
    found = _OUTPUT_ITEM_ID.fullmatch(str(item.get("id")))
    return (f"resp_{found[1]}", int(found[2])) if found else None
