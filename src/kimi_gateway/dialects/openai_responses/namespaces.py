"""``namespace`` tools (a group of function tools under one name, as Codex sends its sub-agent
tools ``multi_agent_v1``) for a model that knows only flat function tools.

:func:`flatten` rewrites a request body before parsing: each function tool of a namespace
becomes a function tool named ``<namespace>__<name>`` (its description led by the namespace's),
and a ``function_call`` input item with a ``namespace`` gets the same joined name. On the way
back, :func:`split` turns a joined name into the ``name`` and ``namespace`` the client declared,
so the client sees its own tool called. Pure wire → wire; only the namespaces the request
declared are split, so no other tool name is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JOINER = "__"


def join(namespace: str, name: str) -> str:
    return f"{namespace}{JOINER}{name}"


def _flat_tools(tools: list[Any]) -> tuple[list[Any], frozenset[str]]:
    out: list[Any] = []
    names: set[str] = set()
    for tool in tools:
        inner = tool.get("tools") if isinstance(tool, Mapping) else None
        namespace = tool.get("name") if isinstance(tool, Mapping) else None
        if tool.get("type") != "namespace" or not isinstance(inner, list) or not namespace:
            out.append(tool)
            continue
        names.add(str(namespace))
        lead = tool.get("description")
        for sub in inner:
            if not isinstance(sub, Mapping) or sub.get("type") != "function":
                out.append(sub)  # a hosted tool inside: judged like any other
                continue
            flat = {**sub, "name": join(str(namespace), str(sub.get("name")))}
            if isinstance(lead, str) and lead:
                flat["description"] = f"{lead} {sub.get('description') or ''}".strip()
            out.append(flat)
    return out, frozenset(names)


def flatten(body: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The body with namespace tools flattened, and the namespaces it declared."""
    out = dict(body)
    tools = body.get("tools")
    if not isinstance(tools, list):
        return out, frozenset()
    out["tools"], names = _flat_tools(tools)
    items = body.get("input")
    if names and isinstance(items, list):
        out["input"] = [_joined_call(item) for item in items]
    return out, names


def _joined_call(item: Any) -> Any:
    if not isinstance(item, Mapping) or item.get("type") != "function_call":
        return item
    namespace = item.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        return item
    rest = {k: v for k, v in item.items() if k != "namespace"}
    return {**rest, "name": join(namespace, str(item.get("name")))}


def split(name: str, namespaces: frozenset[str]) -> tuple[str | None, str]:
    """(namespace, name) for a joined name of a declared namespace; else (None, name)."""
    head, sep, tail = name.partition(JOINER)
    if sep and tail and head in namespaces:
        return head, tail
    return None, name
