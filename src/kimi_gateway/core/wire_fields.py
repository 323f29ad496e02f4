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

# Integers any field may hold: what a JSON encoder can write (orjson: signed 64-bit). A float
# such as 1e30 read as an integer would otherwise become a 100-bit int that crashes the encoder
# on the way out (a 500, issue 10).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Request counts (tokens, choices, top_k): 0 to the signed 32-bit maximum. Larger is never
# meaningful (Kimi's largest context is 262144 tokens, docs/kimi.md §2.2) and is answered
# with a 400 naming the field, before anything is sent upstream.
COUNT_MAX = 2**31 - 1


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
    # type() first: parsed JSON is a dict, and an ABC isinstance costs ~10x an exact type test.
    if type(value) is not dict and not isinstance(value, Mapping):
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


def opt_int(value: Any, param: str, *, low: int = INT64_MIN, high: int = INT64_MAX) -> int | None:
    """An integer (a float with no fraction counts) in ``[low, high]``; else a 400 naming
    ``param`` and the range."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "an integer", value)
    if isinstance(value, float) and not value.is_integer():
        raise wrong_type(param, "an integer", value)
    if not low <= value <= high:
        raise out_of_range(param, value, low, high)
    return int(value)


def opt_count(value: Any, param: str) -> int | None:
    """A request count (tokens, choices): an integer from 0 to :data:`COUNT_MAX`."""
    return opt_int(value, param, low=0, high=COUNT_MAX)


def out_of_range(param: str, value: float, low: int, high: int) -> TranslationError:
    return TranslationError(
        f"Invalid value for '{param}': expected an integer from {low} to {high}, but got "
        f"{value!r}.",
        param=param,
    )


def opt_number(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "a number", value)
    return value


def opt_object(value: Any, param: str) -> Mapping[str, Any] | None:
    return None if value is None else as_object(value, param)
