"""``tools`` / ``tool_choice`` / ``parallel_tool_calls`` ↔ canonical Tool and ToolChoice.

Responses function tools are flat: ``{"type": "function", "name", "description", "parameters",
"strict"}``. Every other tool type (``web_search``, ``namespace``, ``custom``, ``local_shell``,
``file_search``, ``mcp`` …) has no canonical form: the list of them is kept in
``Request.openai_responses.hosted_tools`` (rendered back after the function tools) with one
Diagnostic per tool, so a Kimi upstream drops them by name (upstreams/kimi/quirks_fields.py).
``tool_choice`` is ``"auto" | "none" | "required" | {"type": "function", "name"}``; other forms
(``allowed_tools``, a hosted tool type) go to ``Request.openai_responses.tool_choice`` with a
Diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.model import Diagnostic, Tool, ToolChoice
from kimi_gateway.dialects.openai_responses.wire import (
    as_list,
    as_object,
    as_str,
    bad_value,
    opt_bool,
    opt_object,
    opt_str,
)

_FUNCTION_KEYS = frozenset({"type", "name", "description", "parameters", "strict"})
_CHOICE_MODES = ("auto", "none", "required")


def parse_tools(
    value: Any, diags: list[Diagnostic]
) -> tuple[tuple[Tool, ...], tuple[dict[str, Any], ...]]:
    """The function tools, and the hosted (non-function) tools kept verbatim, in order."""
    if value is None:
        return (), ()
    tools: list[Tool] = []
    hosted: list[dict[str, Any]] = []
    for i, raw in enumerate(as_list(value, "tools")):
        param = f"tools[{i}]"
        tool = as_object(raw, param)
        kind = as_str(tool.get("type"), f"{param}.type")
        if kind != "function":
            name = tool.get("name") if isinstance(tool.get("name"), str) else kind
            diags.append(Diagnostic("hosted_tool", f"{param}: {kind} tool {name!r} kept aside"))
            hosted.append(dict(tool))
            continue
        tools.append(_function(tool, param, diags))
    return tuple(tools), tuple(hosted)


def _function(tool: Mapping[str, Any], param: str, diags: list[Diagnostic]) -> Tool:
    for key in sorted(k for k, v in tool.items() if k not in _FUNCTION_KEYS and v is not None):
        diags.append(Diagnostic("dropped_tool_field", f"{param}.{key} has no canonical form"))
    return Tool(
        name=as_str(tool.get("name"), f"{param}.name"),
        description=opt_str(tool.get("description"), f"{param}.description"),
        parameters=opt_object(tool.get("parameters"), f"{param}.parameters"),
        strict=opt_bool(tool.get("strict"), f"{param}.strict"),
    )


def parse_tool_choice(
    body: Mapping[str, Any], has_tools: bool, diags: list[Diagnostic]
) -> tuple[ToolChoice | None, dict[str, Any] | None]:
    """The canonical choice, and a wire ``tool_choice`` with no canonical form (kept aside)."""
    parallel = opt_bool(body.get("parallel_tool_calls"), "parallel_tool_calls")
    value = body.get("tool_choice")
    if value is None:
        # ``auto`` is the default when tools are present, so this adds no meaning.
        implied = parallel is not None and has_tools
        return (ToolChoice("auto", parallel=parallel) if implied else None), None
    if isinstance(value, str):
        if value not in _CHOICE_MODES:
            raise bad_value("tool_choice", value, "'auto', 'none', 'required', or an object")
        return ToolChoice(value, parallel=parallel), None  # type: ignore[arg-type]
    choice = as_object(value, "tool_choice")
    if choice.get("type") == "function":
        name = as_str(choice.get("name"), "tool_choice.name")
        return ToolChoice("tool", name, parallel), None
    diags.append(Diagnostic("dropped_param", f"tool_choice of type {choice.get('type')!r}"))
    return (ToolChoice("auto", parallel=parallel) if parallel is not None else None), dict(choice)


def render_tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    if tool.parameters is not None:
        out["parameters"] = tool.parameters
    if tool.strict is not None:
        out["strict"] = tool.strict
    return out


def render_tool_choice(choice: ToolChoice) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if choice.mode == "tool":
        out["tool_choice"] = {"type": "function", "name": choice.name}
    else:
        out["tool_choice"] = choice.mode
    if choice.parallel is not None:
        out["parallel_tool_calls"] = choice.parallel
    return out
