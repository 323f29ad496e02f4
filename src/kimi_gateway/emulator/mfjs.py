"""A subset of walle's `lite` validation of tool schemas (MFJS, docs/kimi.md §8.6 [O] WALLE).

Checks the shapes that live reports show rejected (§2.3): an enum without `type`, `type` beside
`anyOf` or `$ref` (switchable, §17.13), enum values of the wrong type, a non-object root, refs
outside `#/$defs/`, unresolvable refs, non-object property schemas, tuple `items`, bad `type`
values, malformed `properties`/`enum`, the `lite` size limits (schema bytes, `properties`
depth, property keys, enum and anyOf counts), and the tool-name pattern. Errors use walle's
`At path '<path>': <reason>` with dotted paths (`root` for the root), wrapped as Kimi wraps them.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from kimi_gateway.emulator.errors import EmulatorError, invalid_request

# §8.6 [O] WALLE: the `lite` size limits. The texts are walle's (validator.go,
# keyword_validators.go); the schema size is counted as compact JSON bytes, like walle's.
MAX_SCHEMA_BYTES = 120_000
MAX_DEPTH = 30
MAX_PROPERTY_KEYS = 3000
MAX_ENUM_ITEMS = 1000
MAX_ANYOF_ITEMS = 500

# §5.1 [O] OAS 2026-08-17 (widened from {2,63}); a leading digit is rejected.
TOOL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{0,255}$")
_TYPES = {"null", "boolean", "object", "array", "number", "integer", "string"}


class SchemaProblem(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def _join(path: str, *parts: str) -> str:
    return ".".join(parts) if path == "root" else ".".join((path, *parts))


def _go_value(value: Any) -> str:
    """Go's %v of a JSON value, as walle prints enum values (`true`, `move`, `1.5`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _matches(value: Any, kind: str) -> bool:
    checks = {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }
    return checks.get(kind, False)


class _Walker:
    def __init__(self, root: dict[str, Any], strict_combinators: bool) -> None:
        self.root = root
        self.strict = strict_combinators
        self.property_keys = 0

    def node(self, schema: dict[str, Any], path: str, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            # walle counts a level per `properties` nesting (items/anyOf/$defs stay level);
            # the depth `$ref`s add through their definitions is not counted here.
            raise SchemaProblem(path, f"schema depth exceeds maximum limit of {MAX_DEPTH}")
        has_type = "type" in schema
        if has_type and self.strict and "anyOf" in schema:
            raise SchemaProblem(
                path,
                "when using anyOf, type should be defined in anyOf items instead of the parent "
                "schema",
            )
        if has_type and self.strict and "$ref" in schema:
            raise SchemaProblem(
                path,
                "when using $ref, type should be defined in the referenced schema instead of the "
                "parent schema",
            )
        types = self.types(schema, path)
        if "enum" in schema:
            self.enum(schema["enum"], types, path)
        if "$ref" in schema:
            self.ref(schema["$ref"], _join(path, "$ref"))
        self.children(schema, path, depth)

    def types(self, schema: dict[str, Any], path: str) -> list[str]:
        raw = schema.get("type")
        if raw is None:
            return []
        types = raw if isinstance(raw, list) else [raw]
        if not types or any(not isinstance(t, str) or t not in _TYPES for t in types):
            raise SchemaProblem(path, "invalid type")
        return [str(t) for t in types]

    def enum(self, values: Any, types: list[str], path: str) -> None:
        if not isinstance(values, list) or not values:
            raise SchemaProblem(_join(path, "enum"), "enum array cannot be empty")
        if len(values) > MAX_ENUM_ITEMS:
            message = f"enum array cannot have more than {MAX_ENUM_ITEMS} items"
            raise SchemaProblem(_join(path, "enum"), message)
        if not types:
            # §2.3 [O-code] KOSONG-PY CHANGELOG: an enum-only property is rejected.
            raise SchemaProblem(path, "type is not defined")
        for value in values:
            if not any(_matches(value, t) for t in types):
                listed = " ".join(types)
                raise SchemaProblem(
                    _join(path, "enum"),
                    f"enum value ({_go_value(value)}) does not match any type in [{listed}]",
                )

    def ref(self, ref: Any, path: str) -> None:
        if not isinstance(ref, str):
            raise SchemaProblem(path, "$ref must be a string")
        if ref == "#":
            return
        if not ref.startswith("#/$defs/"):
            raise SchemaProblem(path, "references must start with #/$defs/")
        defs = self.root.get("$defs")
        if not isinstance(defs, dict):
            raise SchemaProblem(path, f"$defs not found for reference: {ref}")
        if ref[len("#/$defs/") :] not in defs:
            raise SchemaProblem(path, f"invalid $ref path: {ref}")

    def properties(self, props: Any, path: str, depth: int) -> None:
        if not isinstance(props, dict):
            raise SchemaProblem(_join(path, "properties"), "properties must be an object")
        self.property_keys += len(props)
        if self.property_keys > MAX_PROPERTY_KEYS:
            raise SchemaProblem(
                path,
                f"total number of properties keys({self.property_keys}) across all objects "
                f"exceeds maximum limit of {MAX_PROPERTY_KEYS}",
            )
        for name, sub in props.items():
            if not isinstance(sub, dict):
                raise SchemaProblem(
                    _join(path, "properties"), f"property schema for '{name}' must be an object"
                )
            self.node(sub, _join(path, "properties", name), depth + 1)

    def children(self, schema: dict[str, Any], path: str, depth: int) -> None:
        if "properties" in schema:
            self.properties(schema["properties"], path, depth)
        items = schema.get("items")
        if items is not None:
            if not isinstance(items, dict):
                raise SchemaProblem(_join(path, "items"), "items must be an object")
            self.node(items, _join(path, "items"), depth)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            self.node(extra, _join(path, "additionalProperties"), depth)
        branches = schema.get("anyOf")
        if isinstance(branches, list) and not 1 <= len(branches) <= MAX_ANYOF_ITEMS:
            raise SchemaProblem(_join(path, "anyOf"), f"anyOf must have 1-{MAX_ANYOF_ITEMS} items")
        for branch in branches or []:
            if isinstance(branch, dict):
                self.node(branch, _join(path, "anyOf"), depth)  # walle drops anyOf indexes
        defs = schema.get("$defs")
        if isinstance(defs, dict):
            for name, sub in defs.items():
                if isinstance(sub, dict):
                    self.node(sub, _join(path, "$defs", name), depth)


def _wrapped(path: str, reason: str, field: str = "tools.function.parameters") -> EmulatorError:
    # §2.3 [O] WALLE errors.go format, wrapped as live reports quote it [3M] (for tools; the
    # response_format field name in the same wrapping is invented by analogy).
    return invalid_request(
        f"Invalid request: {field} is not a valid moonshot flavored json schema, "
        f"details: <At path '{path}': {reason}>"
    )


def validate_parameters(parameters: Any, strict_combinators: bool) -> None:
    """Raise the wrapped MFJS error for a tool's `parameters` (absent parameters are fine)."""
    if parameters is None:
        return
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        # [3M] measured 2026-09 on api.moonshot.cn (MiqroForge-Desktop #1165), also when the
        # root has only anyOf branches.
        raise invalid_request(
            'Invalid request: tools.function.parameters.type is required and must be "object"'
        )
    try:
        if len(orjson.dumps(parameters)) > MAX_SCHEMA_BYTES:
            raise SchemaProblem("root", "schema exceeds maximum allowed size")
        _Walker(parameters, strict_combinators).node(parameters, "root")
    except SchemaProblem as problem:
        raise _wrapped(problem.path, problem.reason) from None


def validate_response_schema(schema: Any, strict_combinators: bool) -> None:
    """§5.1 [O] OAS: a strict ``response_format.json_schema.schema`` must be MFJS (§8.6), checked
    as tool parameters are, except that no root type is demanded (none is documented)."""
    field = "response_format.json_schema.schema"
    if not isinstance(schema, dict):
        raise invalid_request(f"Invalid request: {field} must be an object")  # invented
    try:
        if len(orjson.dumps(schema)) > MAX_SCHEMA_BYTES:
            raise SchemaProblem("root", "schema exceeds maximum allowed size")
        _Walker(schema, strict_combinators).node(schema, "root")
    except SchemaProblem as problem:
        raise _wrapped(problem.path, problem.reason, field) from None


def validate_tool_name(name: Any) -> None:
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        # Invented text: the pattern is [O] OAS, no rejection message is published.
        raise invalid_request(
            f"Invalid request: function name {name} is invalid, must match {TOOL_NAME.pattern}"
        )
