"""Typed readers of Responses wire fields (the shared ones live in core/wire_fields.py)."""

from __future__ import annotations

from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.wire_fields import (
    as_list,
    as_object,
    as_str,
    opt_bool,
    opt_int,
    opt_number,
    opt_object,
    opt_str,
    type_name,
    wrong_type,
)

__all__ = [
    "as_list",
    "as_object",
    "as_str",
    "bad_value",
    "opt_bool",
    "opt_int",
    "opt_number",
    "opt_object",
    "opt_str",
    "type_name",
    "wrong_type",
]


def bad_value(param: str, value: Any, supported: str) -> TranslationError:
    return TranslationError(
        f"Invalid value for '{param}': {value!r}. Supported values are: {supported}.",
        param=param,
    )
