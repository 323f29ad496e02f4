"""Tools for ``chat`` and ``run_tools``: a plain Python function (its schema from type hints and
the docstring; pydantic models allowed as parameter types), a raw OpenAI-style tool schema with
a handler, or Kimi's built-in ``$web_search``.

A function's parameters become a pydantic model (``extra="forbid"``), which both renders the
JSON schema sent to Kimi and validates the arguments Kimi sends back, strictly, as JSON, before
the function is called (a mismatch goes back to the model as the tool result; the function
never sees it). A raw schema is validated by ``schema_check.py``. Schemas are made Kimi-safe on
the way out (docs/kimi.md §8.6): local ``$ref``s are inlined as Moonshot's own clients do, and
pydantic's ``title`` keys (accepted but ignored by Kimi) are left out.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from kimi_gateway.sdk.schema_check import check

WEB_SEARCH_NAME = "$web_search"  # docs/kimi.md §8.5
_FORBID = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Tool:
    """One tool. ``handler`` is called with the validated arguments as keyword arguments (a
    sync handler runs in a worker thread, an async one on the loop); ``timeout`` in seconds."""

    name: str
    description: str | None
    parameters: Mapping[str, Any]
    handler: Callable[..., Any] | None = None
    timeout: float | None = None
    kind: Literal["function", "builtin_function"] = "function"
    model: type[BaseModel] | None = None  # the arguments' model, for function tools

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style tool entry sent to Kimi."""
        if self.kind == "builtin_function":
            return {"type": "builtin_function", "function": {"name": self.name}}
        function: dict[str, Any] = {"name": self.name, "parameters": dict(self.parameters)}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    def validate(self, arguments: str) -> dict[str, Any]:
        """The arguments as keyword arguments for the handler; ``ValueError`` saying what is
        wrong when they do not match the schema."""
        if self.model is not None:
            try:
                parsed = self.model.model_validate_json(arguments or "{}", strict=True)
            except ValidationError as exc:
                raise ValueError(_pydantic_errors(exc)) from None
            return {name: getattr(parsed, name) for name in type(parsed).model_fields}
        try:
            value = orjson.loads(arguments or "{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"the arguments are not valid JSON ({exc})") from None
        problems = check(self.parameters, value)
        if problems:
            raise ValueError("; ".join(problems))
        if not isinstance(value, dict):
            raise ValueError("the arguments must be a JSON object")
        return value


WEB_SEARCH = Tool(WEB_SEARCH_NAME, None, {}, kind="builtin_function")


def _pydantic_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


@overload
def tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Tool: ...


@overload
def tool(
    fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a :class:`Tool` of a function; usable bare (``@tool``) or with options
    (``@tool(timeout=5)``)."""

    def make(function: Callable[..., Any]) -> Tool:
        return function_tool(function, name=name, description=description, timeout=timeout)

    return make(fn) if fn is not None else make


def as_tool(value: Tool | Callable[..., Any] | Mapping[str, Any] | str) -> Tool:
    """A Tool from what a caller may pass in ``tools=``."""
    if isinstance(value, Tool):
        return value
    if isinstance(value, str):
        if value == WEB_SEARCH_NAME:
            return WEB_SEARCH
        raise ValueError(f"unknown built-in tool {value!r} (Kimi's is {WEB_SEARCH_NAME!r})")
    if isinstance(value, Mapping):
        return raw_tool(value)
    if callable(value):
        return function_tool(value)
    raise TypeError(f"not a tool: {value!r}")


def raw_tool(spec: Mapping[str, Any], handler: Callable[..., Any] | None = None) -> Tool:
    """A Tool from an OpenAI-style entry ``{"type": "function", "function": {...}}`` (or the
    inner ``function`` object alone); ``$``-names are Kimi built-ins (§8.5)."""
    function = spec.get("function", spec)
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise ValueError("a raw tool needs function.name")
    name = str(function["name"])
    if spec.get("type") == "builtin_function" or name.startswith("$"):
        return Tool(name, None, {}, handler, kind="builtin_function")
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    return Tool(name, function.get("description"), parameters, handler)


def function_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Tool:
    summary, param_docs = _docstring(inspect.getdoc(fn) or "")
    model = arguments_model(fn, param_docs)
    parameters = kimi_schema(model.model_json_schema())
    return Tool(
        name or fn.__name__,
        description or summary or None,
        parameters,
        handler=fn,
        timeout=timeout,
        model=model,
    )


def arguments_model(fn: Callable[..., Any], docs: Mapping[str, str]) -> type[BaseModel]:
    """A pydantic model of ``fn``'s parameters (type hints; defaults; docstring descriptions)."""
    hints = typing.get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name not in hints:
            raise TypeError(f"tool {fn.__name__}: parameter {param.name!r} needs a type hint")
        default = ... if param.default is param.empty else param.default
        info = Field(default, description=docs[param.name]) if param.name in docs else default
        fields[param.name] = (hints[param.name], info)
    model: type[BaseModel] = create_model(f"{fn.__name__}_arguments", __config__=_FORBID, **fields)
    return model


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:?\s*$", re.IGNORECASE)
_ENTRY = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_SPHINX = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_OTHER_SECTION = re.compile(r"^(Returns?|Raises|Yields?|Examples?|Notes?)\s*:?\s*$", re.I)


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (the text before any section) and each parameter's description (Google
    ``Args:`` entries or Sphinx ``:param x:`` lines; continuation lines joined)."""
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        sphinx = _SPHINX.match(line)
        if sphinx:
            current, section = sphinx.group(1), "args"
            params[current] = sphinx.group(2).strip()
        elif _SECTION.match(stripped):
            section, current = "args", None
        elif _OTHER_SECTION.match(stripped) or stripped.startswith(":"):
            section, current = "other", None
        elif section is None:
            summary.append(stripped)
        elif section == "args" and (entry := _ENTRY.match(line)) and _indent(line) <= 4:
            current = entry.group(1).lstrip("*")
            params[current] = entry.group(3).strip()
        elif section == "args" and current is not None and stripped:
            params[current] = f"{params[current]} {stripped}".strip()
    return " ".join(s for s in summary if s).strip(), params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def kimi_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with local ``#/$defs/…`` references inlined (recursive ones kept) and
    ``title`` keys dropped: the shape Moonshot's own clients send (docs/kimi.md §8.6)."""
    defs = schema.get("$defs", {})
    out = _inline(schema, defs, ())
    if isinstance(out, dict) and not _has_ref(out):
        out.pop("$defs", None)
    return out if isinstance(out, dict) else dict(schema)


def _inline(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        key = ref.removeprefix("#/$defs/")
        if key in defs and key not in seen:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            merged = {**_inline(defs[key], defs, (*seen, key)), **_inline(rest, defs, seen)}
            return merged
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _inline(sub, defs, seen) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs, seen) if key != "$defs" else value
    return out


def _has_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(v) for k, v in node.items() if k != "$defs")
    if isinstance(node, list):
        return any(_has_ref(item) for item in node)
    return False
