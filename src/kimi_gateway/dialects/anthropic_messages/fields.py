"""Typed reads of Anthropic wire fields that fail with a TranslationError naming the field.

Every parser in this package reads wire values through these functions so a wrong type becomes
a 400 whose ``param`` is the JSON path (``messages[3].content[0].type``), never a KeyError or a
TypeError. What does not belong here: any mapping between wire and canonical values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.wire_fields import COUNT_MAX


def fail(param: str, expected: str, value: Any) -> TranslationError:
    """The error for a field that holds the wrong kind of value."""
    got = "null" if value is None else type(value).__name__
    return TranslationError(f"{param}: expected {expected}, got {got}", param=param)


def mapping(value: Any, param: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(param, "an object", value)
    return value


def sequence(value: Any, param: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise fail(param, "an array", value)
    return value


def string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise fail(param, "a string", value)
    return value


def opt_string(value: Any, param: str) -> str | None:
    return None if value is None else string(value, param)


def boolean(value: Any, param: str) -> bool:
    if not isinstance(value, bool):
        raise fail(param, "a boolean", value)
    return value


def integer(value: Any, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(param, "an integer", value)
    return value


def opt_integer(value: Any, param: str) -> int | None:
    return None if value is None else integer(value, param)


def request_count(value: Any, param: str) -> int:
    """A count in a request (tokens, top_k): an integer from 0 to ``COUNT_MAX`` (2**31 - 1),
    so that nothing the JSON encoder cannot write, or Kimi cannot mean, goes upstream."""
    number = integer(value, param)
    if not 0 <= number <= COUNT_MAX:
        raise TranslationError(
            f"{param}: expected an integer from 0 to {COUNT_MAX}, got {number}", param=param
        )
    return number


def opt_request_count(value: Any, param: str) -> int | None:
    return None if value is None else request_count(value, param)


def opt_number(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(param, "a number", value)
    return value


def count(value: Any, param: str) -> int:
    """A token count in a reply: null counts as 0 (Anthropic sends null cache fields)."""
    return 0 if value is None else integer(value, param)
