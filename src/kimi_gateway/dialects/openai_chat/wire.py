"""Typed readers of OpenAI Chat wire fields (the shared ones live in core/wire_fields.py)."""

from __future__ import annotations

from typing import Any

from kimi_gateway.core.wire_fields import (
    as_list,
    as_object,
    as_str,
    opt_bool,
    opt_count,
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
    "opt_bool",
    "opt_count",
    "opt_int",
    "opt_number",
    "opt_object",
    "opt_str",
    "str_or_list",
    "type_name",
    "wrong_type",
]


def str_or_list(value: Any, param: str) -> tuple[str, ...]:
    """``stop``: a string, an array of strings, or null."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    items = as_list(value, param)
    return tuple(as_str(item, f"{param}[{i}]") for i, item in enumerate(items))
