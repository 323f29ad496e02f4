from __future__ import annotations

import copy

import pytest

from kimi_gateway.upstreams.kimi.schema_mfjs import SchemaError, normalise_schema


def test_schema_key_removed_and_valid_schema_unchanged() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"command": {"type": "string", "description": "run it"}},
        "required": ["command"],
        "additionalProperties": False,
    }
    before = copy.deepcopy(schema)
    assert normalise_schema(schema) == (
        {
            "type": "object",
            "properties": {"command": {"type": "string", "description": "run it"}},
            "required": ["command"],
            "additionalProperties": False,
        },
        (),
    )
    assert schema == before  # never mutated


def test_enum_only_property_gets_the_enum_type_silently() -> None:
    schema = {"type": "object", "properties": {"unit": {"enum": ["c", "f"]}}}
    assert normalise_schema(schema) == (
        {"type": "object", "properties": {"unit": {"type": "string", "enum": ["c", "f"]}}},
        (),
    )


def test_untyped_property_becomes_string_with_a_note() -> None:
    schema = {"type": "object", "properties": {"x": {"description": "anything"}}}
    assert normalise_schema(schema) == (
        {"type": "object", "properties": {"x": {"description": "anything", "type": "string"}}},
        ("root.properties.x: a schema without type became type string",),
    )


def test_types_guessed_from_structure_and_const() -> None:
    schema = {
        "type": "object",
        "properties": {
            "o": {"properties": {"a": {"type": "integer"}}},
            "l": {"items": {"type": "string"}},
            "c": {"const": 3},
        },
    }
    fixed, notes = normalise_schema(schema)
    assert fixed["properties"] == {
        "o": {"properties": {"a": {"type": "integer"}}, "type": "object"},
        "l": {"items": {"type": "string"}, "type": "array"},
        "c": {"const": 3, "type": "integer"},
    }
    assert notes == ()


def test_enum_values_of_another_type_are_dropped_with_a_note() -> None:
    schema = {"type": "object", "properties": {"flag": {"type": "string", "enum": ["a", True]}}}
    assert normalise_schema(schema) == (
        {"type": "object", "properties": {"flag": {"type": "string", "enum": ["a"]}}},
        ("root.properties.flag: enum values [True] do not match type 'string'",),
    )


def test_untyped_mixed_enum_becomes_typed_anyof_branches() -> None:
    schema = {"type": "object", "properties": {"v": {"enum": ["a", 1, None], "description": "d"}}}
    assert normalise_schema(schema) == (
        {
            "type": "object",
            "properties": {
                "v": {
                    "description": "d",
                    "anyOf": [
                        {"type": "string", "enum": ["a"]},
                        {"type": "integer", "enum": [1]},
                        {"type": "null"},
                    ],
                }
            },
        },
        (),
    )


def test_integers_in_a_number_enum_stay_one_type() -> None:
    schema = {"type": "object", "properties": {"v": {"type": "number", "enum": [1, 2.5]}}}
    fixed, notes = normalise_schema(schema)
    assert fixed["properties"]["v"] == {"type": "number", "enum": [1, 2.5]}
    assert notes == ()


def test_type_beside_anyof_moves_into_the_branches() -> None:
    schema = {
        "type": "object",
        "properties": {"p": {"type": "string", "anyOf": [{"enum": ["a"]}, {"type": "null"}]}},
    }
    assert normalise_schema(schema)[0]["properties"]["p"] == {
        "anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]
    }


def test_local_refs_are_inlined_with_their_siblings_and_defs_removed() -> None:
    schema = {
        "type": "object",
        "properties": {"addr": {"$ref": "#/$defs/Address", "description": "home"}},
        "$defs": {
            "Address": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    assert normalise_schema(schema) == (
        {
            "type": "object",
            "properties": {
                "addr": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "description": "home",
                }
            },
        },
        (),
    )


def test_type_beside_ref_is_dropped_and_definitions_are_read() -> None:
    schema = {
        "type": "object",
        "properties": {"u": {"type": "string", "$ref": "#/definitions/Unit"}},
        "definitions": {"Unit": {"enum": ["c", "f"]}},
    }
    assert normalise_schema(schema)[0] == {
        "type": "object",
        "properties": {"u": {"type": "string", "enum": ["c", "f"]}},
    }


def test_recursive_refs_stay_as_root_defs() -> None:
    schema = {
        "type": "object",
        "properties": {"tree": {"$ref": "#/definitions/Node"}},
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
            }
        },
    }
    node = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
    }
    assert normalise_schema(schema) == (
        {"type": "object", "properties": {"tree": node}, "$defs": {"Node": node}},
        (),
    )


def test_root_without_type_becomes_object_and_empty_root_is_an_empty_object() -> None:
    assert normalise_schema({"properties": {}})[0] == {"type": "object", "properties": {}}
    assert normalise_schema({})[0] == {"type": "object"}
    assert normalise_schema({"$schema": "x"})[0] == {"type": "object"}


def test_allof_branches_are_resolved_but_not_typed() -> None:
    schema = {
        "type": "object",
        "allOf": [{"required": ["a"]}, {"$ref": "#/$defs/A"}],
        "$defs": {"A": {"properties": {"a": {"type": "string"}}}},
    }
    assert normalise_schema(schema)[0] == {
        "type": "object",
        "allOf": [{"required": ["a"]}, {"properties": {"a": {"type": "string"}}}],
    }


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "string"}, "the root of a tool schema must be an object, not 'string'"),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://x/y.json"}}},
            "root.properties.a: only local references (#/$defs/…) can be sent, "
            "got 'https://x/y.json'",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}},
            "root.properties.a: $ref '#/$defs/Missing' points to no definition",
        ),
    ],
)
def test_unfixable_schemas_raise(schema: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        normalise_schema(schema)
    assert str(caught.value) == message
