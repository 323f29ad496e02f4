"""How much work one request may ask for: tools, messages, and the size and nesting of each JSON
schema it carries (tool parameters, ``response_format``). Checked by the engine's ``prepare``,
so generation and token counting, on every face, refuse the same requests with a 400 that
names the limit (issue 10 item 4: one legal request with a million messages or a schema with a
million properties kept the server busy for seconds; a schema nested hundreds deep reaches
recursive code such as the quirk layer's schema walk).

The schema walk stops as soon as a limit is passed, so its cost is bounded by the limit, not by
the schema. What does not belong here: the body's size and its JSON value count, which the face
checks before parsing (server/request_body.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core import history
from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import JSON, Request, derived
from kimi_gateway.core.records import record


@record
class RequestLimits:
    max_tools: int = 512
    max_messages: int = 10_000
    max_schema_nodes: int = 10_000
    max_schema_depth: int = 64


def check_request(request: Request, limits: RequestLimits) -> None:
    """A 400 naming the first limit ``request`` passes; None when it is within all of them."""
    if len(request.tools) > limits.max_tools:
        raise GatewayError(
            "invalid_request",
            f"too many tools: {len(request.tools)} (this gateway's limit is {limits.max_tools})",
            param="tools",
        )
    if len(request.messages) > limits.max_messages:
        raise GatewayError(
            "invalid_request",
            f"too many messages: {len(request.messages)} (this gateway's limit is "
            f"{limits.max_messages}: security.requests.max_messages)",
            param="messages",
        )
    passed = ("engine.schema_within", limits.max_schema_nodes, limits.max_schema_depth)
    for index, tool in enumerate(request.tools):
        if tool.parameters is not None:
            facts = derived(tool)  # checked once per tool object (core/model.py)
            if passed not in facts:
                check_schema(tool.parameters, f"tools[{index}] ({tool.name})", limits)
                facts[passed] = True
    # K3's dynamic tools (docs/kimi.md §5.1): the messages with tools, a history's kept.
    for i in history.tool_messages(request.messages):
        for index, tool in enumerate(request.messages[i].tools):
            if tool.parameters is not None:
                where = f"messages[{i}].tools[{index}] ({tool.name})"
                check_schema(tool.parameters, where, limits)
    if request.response_format is not None:
        check_schema(request.response_format, "response_format", limits)


def check_schema(schema: Mapping[str, JSON], where: str, limits: RequestLimits) -> None:
    """Count the nodes of ``schema`` (every value in it, at any depth) and measure its nesting,
    stopping at the first limit passed."""
    _measure(schema, 1, where, limits)


def _measure(value: Any, depth: int, where: str, limits: RequestLimits) -> int:
    # Recursion is safe: it goes at most max_schema_depth deep. Only containers are descended
    # and everything is recognised by exact type: the walk costs ~35 us for Claude Code's 24
    # tool schemas, under 2% of that request's translation (isinstance(…, Mapping) per node
    # cost ten times more).
    kind = type(value)
    items = value if kind is list or kind is tuple else value.values()
    count = len(items)
    if count > limits.max_schema_nodes:
        raise _schema_error(where, f"more than {limits.max_schema_nodes} nodes", "nodes")
    for child in items:
        child_kind = type(child)
        if child_kind is dict or child_kind is list or child_kind is tuple:
            if depth >= limits.max_schema_depth:
                detail = f"nested more than {limits.max_schema_depth} deep"
                raise _schema_error(where, detail, "depth")
            count += _measure(child, depth + 1, where, limits)
            if count > limits.max_schema_nodes:
                raise _schema_error(where, f"more than {limits.max_schema_nodes} nodes", "nodes")
    return count


def _schema_error(where: str, detail: str, setting: str) -> GatewayError:
    return GatewayError(
        "invalid_request",
        f"{where}: the JSON schema is too large: {detail} (this gateway's limit: "
        f"security.requests.max_schema_{setting})",
        param="tools" if where.startswith("tools") else "response_format",
    )
