"""Validate a decoded JSON value against a raw tool schema, before any tool sees it.

Covers what Kimi's tool schemas can say (Moonshot Flavored JSON Schema, docs/kimi.md §8.6):
``type`` (one or a list), ``properties``, ``required``, ``additionalProperties`` (bool or
schema), ``items`` (schema or tuple), ``enum``, ``const``, ``anyOf``/``oneOf``/``allOf``,
``$ref`` to ``#/$defs/…`` or ``#``, and the common bounds (``minimum``/``maximum`` and their
exclusive forms, ``minLength``/``maxLength``, ``pattern``, ``minItems``/``maxItems``).
Keywords it does not know are ignored, as a JSON Schema validator does. Pure; no I/O.

Each problem is one line naming where it is (``city``, ``items[2].id``), for the model to read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def check(schema: Mapping[str, Any], value: Any) -> list[str]:
    """Every problem of ``value`` against ``schema``; [] when it is valid."""
    return _Checker(schema).at(schema, value, "")


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def at(self, schema: Any, value: Any, path: str) -> list[str]:
        if not isinstance(schema, Mapping):
            return [] if schema is not False else [f"{_where(path)}: not allowed"]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self._resolve(ref)
            if target is None:
                return [f"{_where(path)}: the schema's reference {ref!r} cannot be resolved"]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        problems = self._type(schema, value, path)
        if problems:
            return problems
        for check_one in (self._choices, self._combined, self._bounds):
            problems.extend(check_one(schema, value, path))
        if isinstance(value, dict):
            problems.extend(self._object(schema, value, path))
        elif isinstance(value, list):
            problems.extend(self._array(schema, value, path))
        return problems

    def _resolve(self, ref: str) -> Mapping[str, Any] | None:
        if ref == "#":
            return self.root
        if ref.startswith("#/$defs/"):
            found = self.root.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
            return found if isinstance(found, Mapping) else None
        return None

    def _type(self, schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
        wanted = schema.get("type")
        if wanted is None:
            return []
        names = wanted if isinstance(wanted, list) else [wanted]
        if any(_TYPES.get(str(name), _anything)(value) for name in names):
            return []
        expected = " or ".join(str(name) for name in names)
        return [f"{_where(path)}: expected {expected}, got {_kind(value)}"]

    def _choices(self, schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
        enum = schema.get("enum")
        if isinstance(enum, list) and not any(_same(value, item) for item in enum):
            allowed = ", ".join(repr(item) for item in enum)
            return [f"{_where(path)}: {value!r} is not one of {allowed}"]
        if "const" in schema and not _same(value, schema["const"]):
            return [f"{_where(path)}: must be {schema['const']!r}"]
        return []

    def _combined(self, schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
        problems: list[str] = []
        for sub in schema.get("allOf") or []:
            problems.extend(self.at(sub, value, path))
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                passing = sum(1 for sub in branches if not self.at(sub, value, path))
                if passing == 0 or (key == "oneOf" and passing > 1):
                    word = "any" if key == "anyOf" else "exactly one"
                    problems.append(f"{_where(path)}: does not match {word} of the allowed forms")
        return problems

    def _bounds(self, schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
        where = _where(path)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _number_bounds(schema, value, where)
        if isinstance(value, str):
            problems = _size(schema, len(value), where, "minLength", "maxLength", "characters")
            pattern = schema.get("pattern")
            if isinstance(pattern, str) and re.search(pattern, value) is None:
                problems.append(f"{where}: does not match the pattern {pattern!r}")
            return problems
        if isinstance(value, list):
            return _size(schema, len(value), where, "minItems", "maxItems", "items")
        return []

    def _object(self, schema: Mapping[str, Any], value: dict[str, Any], path: str) -> list[str]:
        problems = [
            f"{_where(_join(path, name))}: required, but missing"
            for name in schema.get("required") or []
            if name not in value
        ]
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                problems.extend(self.at(properties[name], item, _join(path, name)))
            elif extra is False:
                problems.append(f"{_where(_join(path, name))}: not an allowed argument")
            elif isinstance(extra, Mapping):
                problems.extend(self.at(extra, item, _join(path, name)))
        return problems

    def _array(self, schema: Mapping[str, Any], value: list[Any], path: str) -> list[str]:
        items = schema.get("items")
        problems: list[str] = []
        for i, item in enumerate(value):
            sub = items[i] if isinstance(items, list) and i < len(items) else items
            if isinstance(sub, Mapping):
                problems.extend(self.at(sub, item, f"{path}[{i}]"))
        return problems


def _number_bounds(schema: Mapping[str, Any], value: float, where: str) -> list[str]:
    problems = []
    for key, words in _BOUNDS:
        bound = schema.get(key)
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            continue
        if key == "minimum":
            ok = value >= bound
        elif key == "maximum":
            ok = value <= bound
        elif key == "exclusiveMinimum":
            ok = value > bound
        else:
            ok = value < bound
        if not ok:
            problems.append(f"{where}: must be {words} {bound}")
    return problems


_BOUNDS = (
    ("minimum", "at least"),
    ("maximum", "at most"),
    ("exclusiveMinimum", "more than"),
    ("exclusiveMaximum", "less than"),
)


def _anything(value: Any) -> bool:
    return True


def _size(
    schema: Mapping[str, Any], size: int, where: str, low: str, high: str, unit: str
) -> list[str]:
    problems = []
    if isinstance(schema.get(low), int) and size < schema[low]:
        problems.append(f"{where}: needs at least {schema[low]} {unit}")
    if isinstance(schema.get(high), int) and size > schema[high]:
        problems.append(f"{where}: allows at most {schema[high]} {unit}")
    return problems


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _kind(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where(path: str) -> str:
    return path or "(arguments)"
