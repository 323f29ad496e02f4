"""Tool-schema (MFJS) rejections with Kimi's wrapped walle messages (docs/kimi.md §2.3, §8.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimi_gateway.emulator.server import EmulatorServer

WRAP = (
    "Invalid request: tools.function.parameters is not a valid moonshot flavored json schema, "
    "details: <At path '{path}': {reason}>"
)


def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _nested(levels: int) -> dict[str, Any]:
    """An object `levels` properties deep: root.properties.n.properties.n…"""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = _obj(n=schema)
    return schema


REJECTED: list[tuple[str, Any, str, str]] = [
    (
        "enum-only property",
        _obj(unit={"enum": ["c", "f"]}),
        "properties.unit",
        "type is not defined",
    ),
    (
        "type beside anyOf at the root",
        {"type": "object", "anyOf": [{"type": "object", "properties": {}}]},
        "root",
        "when using anyOf, type should be defined in anyOf items instead of the parent schema",
    ),
    (
        "type beside anyOf in a property",
        _obj(skill={"type": "string", "anyOf": [{"type": "string"}, {"type": "null"}]}),
        "properties.skill",
        "when using anyOf, type should be defined in anyOf items instead of the parent schema",
    ),
    (
        "type beside $ref",
        {
            **_obj(user={"type": "object", "$ref": "#/$defs/User"}),
            "$defs": {"User": {"type": "object"}},
        },
        "properties.user",
        "when using $ref, type should be defined in the referenced schema instead of the parent "
        "schema",
    ),
    (
        "boolean enum value for a string",
        _obj(flag={"type": "string", "enum": ["yes", True]}),
        "properties.flag.enum",
        "enum value (true) does not match any type in [string]",
    ),
    (
        "string enum value for an object",
        _obj(mode={"type": "object", "enum": ["move"]}),
        "properties.mode.enum",
        "enum value (move) does not match any type in [object]",
    ),
    (
        "$ref outside $defs",
        _obj(user={"$ref": "#/definitions/User"}),
        "properties.user.$ref",
        "references must start with #/$defs/",
    ),
    (
        "$ref with no $defs",
        _obj(user={"$ref": "#/$defs/User"}),
        "properties.user.$ref",
        "$defs not found for reference: #/$defs/User",
    ),
    (
        "$ref to a missing def",
        {**_obj(user={"$ref": "#/$defs/Person"}), "$defs": {"User": {"type": "object"}}},
        "properties.user.$ref",
        "invalid $ref path: #/$defs/Person",
    ),
    (
        "boolean property schema",
        _obj(tasks={"type": "array", "items": _obj(outputSchema=True)}),
        "properties.tasks.items.properties",
        "property schema for 'outputSchema' must be an object",
    ),
    (
        "tuple items",
        _obj(pair={"type": "array", "items": [{"type": "string"}]}),
        "properties.pair.items",
        "items must be an object",
    ),
    ("unknown type", _obj(x={"type": "text"}), "properties.x", "invalid type"),
    (
        "empty enum",
        _obj(x={"type": "string", "enum": []}),
        "properties.x.enum",
        "enum array cannot be empty",
    ),
    # §8.6 [O] WALLE: the `lite` limits, with walle's own texts.
    (
        "1001 enum values",
        _obj(x={"type": "integer", "enum": list(range(1001))}),
        "properties.x.enum",
        "enum array cannot have more than 1000 items",
    ),
    (
        "501 anyOf branches",
        _obj(x={"anyOf": [{"type": "string"}] * 501}),
        "properties.x.anyOf",
        "anyOf must have 1-500 items",
    ),
    ("empty anyOf", _obj(x={"anyOf": []}), "properties.x.anyOf", "anyOf must have 1-500 items"),
    (
        "3001 property keys",
        _obj(a=_obj(**{f"p{i}": {"type": "string"} for i in range(3000)})),
        "properties.a",
        "total number of properties keys(3001) across all objects exceeds maximum limit of 3000",
    ),
    (
        "31 levels of properties",
        _nested(31),
        ".".join(["properties.n"] * 31),
        "schema depth exceeds maximum limit of 30",
    ),
    (
        "over 120,000 bytes",
        _obj(x={"type": "string", "description": "d" * 120_000}),
        "root",
        "schema exceeds maximum allowed size",
    ),
]


def _post(raw: httpx.Client, name: str, parameters: Any) -> httpx.Response:
    tool = {"type": "function", "function": {"name": name, "parameters": parameters}}
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    return raw.post("/v1/chat/completions", json=body)


@pytest.mark.parametrize(
    ("schema", "path", "reason"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_schema_rejected(raw: httpx.Client, schema: Any, path: str, reason: str) -> None:
    response = _post(raw, "lookup", schema)
    assert response.status_code == 400
    message = WRAP.format(path=path, reason=reason)
    assert response.json() == {"error": {"type": "invalid_request_error", "message": message}}


@pytest.mark.parametrize("schema", [{"type": "array"}, {"anyOf": [{"type": "object"}]}, "object"])
def test_root_must_be_an_object(raw: httpx.Client, schema: Any) -> None:
    response = _post(raw, "lookup", schema)
    assert response.json() == {
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid request: tools.function.parameters.type is required and must "
            'be "object"',
        }
    }


@pytest.mark.parametrize("name", ["21st_magic_builder", "has space", "dotted.name", "x" * 257, ""])
def test_bad_tool_names(raw: httpx.Client, name: str) -> None:
    response = _post(raw, name, {"type": "object"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        f"Invalid request: function name {name} is invalid, "
        "must match ^[a-zA-Z_][a-zA-Z0-9\\-_]{0,255}$"
    )


VALID = [
    _obj(unit={"type": "string", "enum": ["c", "f"]}),
    _obj(n={"type": ["integer", "null"], "enum": [1, 2, None]}),
    {**_obj(user={"$ref": "#/$defs/User"}), "$defs": {"User": _obj(name={"type": "string"})}},
    _obj(v={"anyOf": [{"type": "string"}, {"type": "number"}]}),
    _obj(tags={"type": "array", "items": {"type": "string"}}),
    _obj(meta={"type": "object", "additionalProperties": {"type": "string"}}),
    {"type": "object"},
    _nested(30),  # 30 levels below the root: the limit itself
    _obj(x={"type": "integer", "enum": list(range(1000))}),
]


@pytest.mark.parametrize("schema", VALID)
def test_valid_schemas_pass(raw: httpx.Client, schema: Any) -> None:
    assert _post(raw, "a", schema).status_code == 200


def test_builtin_web_search_skips_name_rules(raw: httpx.Client) -> None:
    tool = {"type": "builtin_function", "function": {"name": "$web_search"}}
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    assert raw.post("/v1/chat/completions", json=body).status_code == 200


def test_type_beside_anyof_accepted_when_switched_off(kimi_emulator_factory: Any) -> None:
    server: EmulatorServer = kimi_emulator_factory(reject_type_beside_anyof_ref=False)
    with httpx.Client(base_url=server.url, headers={"authorization": "Bearer sk-x"}) as raw:
        schema = {"type": "object", "anyOf": [{"type": "object", "properties": {}}]}
        assert _post(raw, "lookup", schema).status_code == 200
