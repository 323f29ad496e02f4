"""Typed readers of JSON wire fields that raise :class:`TranslationError` naming the field.

Shared by the OpenAI-style dialects (Chat Completions and Responses), which may not import each
other. Every reader takes the value and its path (``messages[2].content``) so the error says
exactly which field is wrong; ``None`` means "absent" for optional fields, as in OpenAI's APIs.
Nothing here knows what a field means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_gateway.core.errors import TranslationError


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def wrong_type(param: str, expected: str, value: Any) -> TranslationError:
    return TranslationError(
        f"Invalid type for '{param}': expected {expected}, but got {type_name(value)}.",
        param=param,
    )


def as_object(value: Any, param: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise wrong_type(param, "an object", value)
    return value


def as_list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise wrong_type(param, "an array", value)
    return list(value)


def as_str(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise wrong_type(param, "a string", value)
    return value


def opt_str(value: Any, param: str) -> str | None:
    return None if value is None else as_str(value, param)


def opt_bool(value: Any, param: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise wrong_type(param, "a boolean", value)
    return value


def opt_int(value: Any, param: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "an integer", value)
    if isinstance(value, float):
        if not value.is_integer():
            raise wrong_type(param, "an integer", value)
        return int(value)
    return value


def opt_number(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "a number", value)
    return value


def opt_object(value: Any, param: str) -> Mapping[str, Any] | None:
    return None if value is None else as_object(value, param)
