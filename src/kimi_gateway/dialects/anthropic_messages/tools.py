"""Anthropic ``tools`` and ``tool_choice`` ↔ canonical Tool and ToolChoice, both ways.

Custom tools (no ``type`` or ``type: "custom"``) map to :class:`Tool` (``input_schema`` →
``parameters`` verbatim, ``$schema`` included: schema clean-up is a Kimi quirk, not ours).
Anthropic *server* tools (``web_search_20250305``, ``bash_20250124``, … any other ``type``) have
no canonical form: they are kept verbatim, in order, in
``Request.anthropic_messages.server_tools`` and rendered back after the custom tools. Whether an
upstream can run them is for the quirk layer to decide (it may map web search to Kimi's
``$web_search``, or drop them with a diagnostic).

``tool_choice``: ``auto`` → auto, ``any`` → required, ``tool`` → tool(name), ``none`` → none;
``disable_parallel_tool_use: true`` ↔ ``ToolChoice.parallel=False`` (and ``false`` ↔ True).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, Tool, ToolChoice
from kimi_gateway.dialects.anthropic_messages import fields
from kimi_gateway.dialects.anthropic_messages.content import check_keys, parse_cache

_CUSTOM_KEYS = {"type", "name", "description", "input_schema", "cache_control", "strict"}
ChoiceMode: TypeAlias = Literal["auto", "none", "required", "tool"]
_CHOICE_TO_MODE: dict[str, ChoiceMode] = {
    "auto": "auto",
    "any": "required",
    "tool": "tool",
    "none": "none",
}
_MODE_TO_CHOICE = {mode: wire for wire, mode in _CHOICE_TO_MODE.items()}


def parse_tools(
    value: Any, diags: list[Diagnostic]
) -> tuple[tuple[Tool, ...], tuple[dict[str, Any], ...]]:
    """Custom tools, and the server tools kept verbatim."""
    if value is None:
        return (), ()
    tools: list[Tool] = []
    server: list[dict[str, Any]] = []
    for i, item in enumerate(fields.sequence(value, "tools")):
        param = f"tools[{i}]"
        tool = fields.mapping(item, param)
        kind = fields.opt_string(tool.get("type"), f"{param}.type")
        if kind in (None, "custom"):
            tools.append(_custom_tool(tool, param, diags))
        else:
            server.append(dict(tool))
    return tuple(tools), tuple(server)


def _custom_tool(tool: Any, param: str, diags: list[Diagnostic]) -> Tool:
    check_keys(tool, _CUSTOM_KEYS, param, diags)
    schema = tool.get("input_schema")
    strict = tool.get("strict")
    return Tool(
        name=fields.string(tool.get("name"), f"{param}.name"),
        description=fields.opt_string(tool.get("description"), f"{param}.description"),
        parameters=None if schema is None else fields.mapping(schema, f"{param}.input_schema"),
        strict=None if strict is None else fields.boolean(strict, f"{param}.strict"),
        cache=parse_cache(tool, param, diags),
    )


def render_tools(
    tools: Sequence[Tool], server: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Custom tools then server tools.

    A ``builtin_function`` Tool (Kimi ``$web_search``) renders as a plain custom tool of that
    name; Anthropic has no such kind. A tool without parameters gets ``{"type": "object"}``:
    ``input_schema`` is required on the wire.
    """
    rendered: list[dict[str, Any]] = []
    for tool in tools:
        entry: dict[str, Any] = {"name": tool.name}
        if tool.description is not None:
            entry["description"] = tool.description
        entry["input_schema"] = (
            dict(tool.parameters) if tool.parameters is not None else {"type": "object"}
        )
        if tool.strict is not None:
            entry["strict"] = tool.strict
        if tool.cache:
            entry["cache_control"] = {"type": "ephemeral"}
        rendered.append(entry)
    rendered.extend(dict(item) for item in server)
    return rendered


def parse_tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    choice = fields.mapping(value, "tool_choice")
    kind = fields.string(choice.get("type"), "tool_choice.type")
    mode = _CHOICE_TO_MODE.get(kind)
    if mode is None:
        raise TranslationError(
            f"tool_choice.type: unknown value {kind!r} (auto, any, tool, none)",
            param="tool_choice.type",
        )
    name = fields.string(choice.get("name"), "tool_choice.name") if kind == "tool" else None
    disable = choice.get("disable_parallel_tool_use")
    parallel = None
    if disable is not None:
        parallel = not fields.boolean(disable, "tool_choice.disable_parallel_tool_use")
    return ToolChoice(mode, name=name, parallel=parallel)


def render_tool_choice(choice: ToolChoice) -> dict[str, Any]:
    wire: dict[str, Any] = {"type": _MODE_TO_CHOICE[choice.mode]}
    if choice.mode == "tool":
        wire["name"] = choice.name or ""
    if choice.parallel is not None:
        wire["disable_parallel_tool_use"] = not choice.parallel
    return wire
