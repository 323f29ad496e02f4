"""Tool schemas from Python functions (type hints, docstrings, pydantic models) in the shape
Kimi takes, and the validation of raw schemas (pure; no server needed)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from kimi_gateway.sdk import WEB_SEARCH, Tool, raw_tool, tool
from kimi_gateway.sdk.schema_check import check
from kimi_gateway.sdk.tools import as_tool, kimi_schema


class Unit(Enum):
    C = "celsius"
    F = "fahrenheit"


class Place(BaseModel):
    city: str
    country: str | None = None


def forecast(place: Place, days: int = 3, unit: Unit = Unit.C) -> str:
    """Forecast for a place.

    Looks it up in the weather service.

    Args:
        place: where
        days: how many days,
            counting today
        unit: temperature unit

    Returns:
        the forecast text
    """
    return ""


def test_a_function_becomes_a_kimi_tool() -> None:
    made = as_tool(forecast)
    assert made.spec() == {
        "type": "function",
        "function": {
            "name": "forecast",
            "description": "Forecast for a place. Looks it up in the weather service.",
            "parameters": {
                "additionalProperties": False,
                "properties": {
                    "place": {
                        "description": "where",
                        "properties": {
                            "city": {"type": "string"},
                            "country": {
                                "anyOf": [{"type": "string"}, {"type": "null"}],
                                "default": None,
                            },
                        },
                        "required": ["city"],
                        "type": "object",
                    },
                    "days": {
                        "default": 3,
                        "description": "how many days, counting today",
                        "type": "integer",
                    },
                    "unit": {
                        "default": "celsius",
                        "description": "temperature unit",
                        "enum": ["celsius", "fahrenheit"],
                        "type": "string",
                    },
                },
                "required": ["place"],
                "type": "object",
            },
        },
    }


def test_validated_arguments_are_python_values() -> None:
    made = as_tool(forecast)
    assert made.validate('{"place": {"city": "Oslo"}, "unit": "fahrenheit"}') == {
        "place": Place(city="Oslo"),
        "days": 3,
        "unit": Unit.F,
    }
    with pytest.raises(ValueError, match="days: Input should be a valid integer"):
        made.validate('{"place": {"city": "Oslo"}, "days": "3"}')


def test_decorator_options_sphinx_docstrings_and_annotated_descriptions() -> None:
    @tool(name="lookup_user", timeout=2.5)
    def find(
        user_id: Annotated[int, Field(description="numeric id")], mode: Literal["a", "b"]
    ) -> str:
        """Find a user.

        :param mode: lookup mode
        """
        return ""

    assert isinstance(find, Tool)
    assert (find.name, find.timeout, find.description) == ("lookup_user", 2.5, "Find a user.")
    properties = find.parameters["properties"]
    assert properties["user_id"] == {"description": "numeric id", "type": "integer"}
    assert properties["mode"] == {
        "description": "lookup mode",
        "enum": ["a", "b"],
        "type": "string",
    }


def test_a_parameter_without_a_type_hint_is_refused() -> None:
    def loose(x):  # type: ignore[no-untyped-def]
        return x

    with pytest.raises(TypeError, match="parameter 'x' needs a type hint"):
        as_tool(loose)


def test_raw_entries_and_builtins() -> None:
    entry = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    assert raw_tool(entry).spec() == {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object"}},
    }
    assert as_tool("$web_search") is WEB_SEARCH
    assert as_tool({"type": "builtin_function", "function": {"name": "$web_search"}}).kind == (
        "builtin_function"
    )
    with pytest.raises(ValueError, match="unknown built-in tool"):
        as_tool("$code_interpreter")


def test_recursive_references_stay_and_others_are_inlined() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "properties": {"node": {"$ref": "#/$defs/Node"}, "leaf": {"$ref": "#/$defs/Leaf"}},
        "$defs": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}},
            "Leaf": {"type": "string", "title": "Leaf"},
        },
    }
    out = kimi_schema(schema)
    assert out["properties"]["leaf"] == {"type": "string"}
    assert out["properties"]["node"]["properties"]["next"] == {"$ref": "#/$defs/Node"}
    assert "$defs" in out


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "size": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "kind": {"$ref": "#/$defs/Kind"},
        "flag": {"type": "boolean"},
    },
    "required": ["name"],
    "additionalProperties": False,
    "$defs": {"Kind": {"type": "string", "enum": ["x", "y"]}},
}


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ({"name": "ok", "tags": ["a"], "size": None, "kind": "x", "flag": True}, []),
        ({}, ["name: required, but missing"]),
        (
            {"name": "A"},
            ["name: needs at least 2 characters", "name: does not match the pattern '^[a-z]+$'"],
        ),
        (
            {"name": "ok", "tags": ["a", 1, "c"]},
            ["tags: allows at most 2 items", "tags[1]: expected string, got integer"],
        ),
        ({"name": "ok", "size": "big"}, ["size: does not match any of the allowed forms"]),
        ({"name": "ok", "kind": "z"}, ["kind: 'z' is not one of 'x', 'y'"]),
        ({"name": "ok", "flag": 1}, ["flag: expected boolean, got integer"]),
        ({"name": "ok", "extra": 1}, ["extra: not an allowed argument"]),
        ([], ["(arguments): expected object, got array"]),
    ],
)
def test_raw_schema_validation(value: Any, problems: list[str]) -> None:
    assert check(SCHEMA, value) == problems


def test_raw_tool_validate_reports_every_problem() -> None:
    made = raw_tool({"type": "function", "function": {"name": "n", "parameters": SCHEMA}})
    with pytest.raises(ValueError, match=r"^name: required, but missing; extra: not an allowed"):
        made.validate('{"extra": true}')
    with pytest.raises(ValueError, match="not valid JSON"):
        made.validate("{nope")
    assert made.validate('{"name": "ab"}') == {"name": "ab"}
