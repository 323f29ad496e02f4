"""``tools`` / ``tool_choice`` / ``parallel_tool_calls`` (and the legacy ``functions`` /
``function_call``) ↔ canonical Tool and ToolChoice.

Kimi accepts ``type: "function"`` and its own ``type: "builtin_function"`` (``$web_search``,
docs/kimi.md §8.5); both are kept. ``tool_choice`` forms follow §8.4 / OpenAI. The legacy fields
are not supported by Kimi (§5.2), so they become tools / tool_choice with a Diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, Tool, ToolChoice
from kimi_gateway.dialects.openai_chat.wire import (
    as_list,
    as_object,
    as_str,
    opt_bool,
    opt_object,
    opt_str,
)

_TOOL_TYPES = ("function", "builtin_function")
_CHOICE_MODES = ("auto", "none", "required")


def parse_tools(body: Mapping[str, Any]) -> tuple[tuple[Tool, ...], list[Diagnostic]]:
    tools: list[Tool] = []
    diagnostics: list[Diagnostic] = []
    if body.get("tools") is not None:
        for i, raw in enumerate(as_list(body["tools"], "tools")):
            tools.append(parse_tool(raw, f"tools[{i}]"))
    if body.get("functions") is not None:
        for i, raw in enumerate(as_list(body["functions"], "functions")):
            tools.append(_function(raw, f"functions[{i}]", "function", cache=False))
        diagnostics.append(Diagnostic("legacy_functions", "'functions' became 'tools'"))
    return tuple(tools), diagnostics


def parse_tool(value: Any, param: str) -> Tool:
    tool = as_object(value, param)
    kind = tool.get("type") if tool.get("type") is not None else "function"
    if kind not in _TOOL_TYPES:
        raise TranslationError(
            f"Invalid value for '{param}.type': {kind!r}. Supported values are: 'function' and "
            "'builtin_function'.",
            param=f"{param}.type",
        )
    cache = tool.get("cache_control") is not None
    return _function(tool.get("function"), f"{param}.function", kind, cache=cache)


def _function(value: Any, param: str, kind: str, *, cache: bool) -> Tool:
    function = as_object(value, param)
    return Tool(
        name=as_str(function.get("name"), f"{param}.name"),
        description=opt_str(function.get("description"), f"{param}.description"),
        parameters=opt_object(function.get("parameters"), f"{param}.parameters"),
        kind="builtin_function" if kind == "builtin_function" else "function",
        strict=opt_bool(function.get("strict"), f"{param}.strict"),
        cache=cache,
    )


def parse_tool_choice(
    body: Mapping[str, Any], has_tools: bool
) -> tuple[ToolChoice | None, list[Diagnostic]]:
    parallel = opt_bool(body.get("parallel_tool_calls"), "parallel_tool_calls")
    diagnostics: list[Diagnostic] = []
    choice: ToolChoice | None = None
    if body.get("tool_choice") is not None:
        choice = _choice(body["tool_choice"], "tool_choice", parallel)
        if body.get("function_call") is not None:
            diagnostics.append(
                Diagnostic("dropped_param", "'function_call' ignored: 'tool_choice' is set")
            )
    elif body.get("function_call") is not None:
        choice = _legacy_choice(body["function_call"], parallel)
        diagnostics.append(Diagnostic("legacy_function_call", "'function_call' → 'tool_choice'"))
    elif parallel is not None and has_tools:
        # ``auto`` is OpenAI's default when tools are present, so this adds no meaning.
        choice = ToolChoice("auto", parallel=parallel)
    return choice, diagnostics


def _choice(value: Any, param: str, parallel: bool | None) -> ToolChoice:
    if isinstance(value, str):
        if value not in _CHOICE_MODES:
            raise TranslationError(
                f"Invalid value for '{param}': {value!r}. Supported values are: 'auto', 'none', "
                "'required', or an object naming a function.",
                param=param,
            )
        return ToolChoice(value, parallel=parallel)  # type: ignore[arg-type]
    choice = as_object(value, param)
    kind = choice.get("type")
    if kind not in _TOOL_TYPES:
        raise TranslationError(
            f"Invalid value for '{param}.type': {kind!r}. Supported values are: 'function' and "
            "'builtin_function'.",
            param=f"{param}.type",
        )
    function = as_object(choice.get("function"), f"{param}.function")
    return ToolChoice("tool", as_str(function.get("name"), f"{param}.function.name"), parallel)


def _legacy_choice(value: Any, parallel: bool | None) -> ToolChoice:
    if value in ("auto", "none"):
        return ToolChoice(value, parallel=parallel)
    if isinstance(value, str):
        raise TranslationError(
            f"Invalid value for 'function_call': {value!r}. Supported values are: 'auto', "
            "'none', or an object naming a function.",
            param="function_call",
        )
    call = as_object(value, "function_call")
    return ToolChoice("tool", as_str(call.get("name"), "function_call.name"), parallel)


def render_tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": tool.kind, "function": function}


def render_tool_choice(choice: ToolChoice, tools: tuple[Tool, ...]) -> dict[str, Any]:
    """``tool_choice`` and ``parallel_tool_calls`` as top-level fields."""
    out: dict[str, Any] = {}
    if choice.mode == "tool":
        kind = next((t.kind for t in tools if t.name == choice.name), "function")
        out["tool_choice"] = {"type": kind, "function": {"name": choice.name}}
    else:
        out["tool_choice"] = choice.mode
    if choice.parallel is not None:
        out["parallel_tool_calls"] = choice.parallel
    return out
