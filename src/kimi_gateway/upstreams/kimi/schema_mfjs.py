"""Tool JSON Schemas rewritten into Moonshot Flavored JSON Schema (MFJS, docs/kimi.md §8.6).

Kimi validates ``tools[].function.parameters`` (and strict ``response_format`` schemas) with
walle at level ``lite`` and answers 400 for shapes real clients send every day (§2.3, [3M]):
enum-only properties, ``type`` beside ``anyOf``/``$ref``, enums mixing types, ``$ref`` into
``definitions``, a ``$schema`` key (Claude Code sends it on every tool, docs/kimi.md §F1).
Moonshot's own client rewrites schemas before sending them ([O-code] KOSONG-TS kimi-schema.ts,
KOSONG-PY jsonschema.py); so do we, and :func:`normalise_schema` reports every rewrite that
changes what the schema accepts so the caller can record a diagnostic.

Pure: the input is never mutated; a new dict is returned. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_DEFS_KEYS = ("$defs", "definitions")
_BRANCH_KEYS = ("anyOf", "oneOf", "allOf")
# Sub-schemas that must stand alone (typed); allOf/oneOf/not branches may be partial, so only
# their references are resolved.
_TYPED_KEYS = ("items", "additionalProperties")
_PARTIAL_KEYS = ("oneOf", "allOf", "not")
_MAX_DEPTH = 30  # §8.6 [O] WALLE: depth limit 30


class SchemaError(ValueError):
    """A schema that cannot be made MFJS (a remote ``$ref``, a non-object root)."""


@dataclass
class _Walk:
    defs: Mapping[str, Any]
    notes: list[str] = field(default_factory=list)
    kept_defs: dict[str, Any] = field(default_factory=dict)  # recursive targets kept as $defs


def normalise_schema(schema: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The MFJS form of a tool's parameters schema, and the changes of meaning made.

    Rewrites (each [O-code] KOSONG or [3M] §8.6 unless noted): local ``$ref`` inlined (a
    recursive one stays a ``#/$defs/`` ref, which MFJS allows); ``definitions`` read as
    ``$defs``; ``$schema`` removed; a missing ``type`` filled from ``properties``/``items``/
    ``enum``/``const``, else ``"string"`` (noted: it narrows "anything"); ``type`` beside
    ``anyOf`` moved into the branches; enum values not matching the declared type dropped
    (noted); untyped enums mixing types split into ``anyOf`` branches of one type each; the root
    typed ``object``.
    """
    defs: dict[str, Any] = {}
    for key in _DEFS_KEYS:
        found = schema.get(key)
        if isinstance(found, Mapping):
            defs.update(found)
    walk = _Walk(defs)
    body = {k: v for k, v in schema.items() if k not in ("$schema", *_DEFS_KEYS)}
    root = _root_object(_node(body, "root", walk, (), 0) if body else {})
    if walk.kept_defs:
        root["$defs"] = walk.kept_defs
    return root, tuple(walk.notes)


def _root_object(root: dict[str, Any]) -> dict[str, Any]:
    """§8.6 [3M]: ``parameters.type`` must be ``object`` at the root."""
    kind = root.get("type")
    if kind == "object":
        return root
    if kind is None and not any(key in root for key in _BRANCH_KEYS):
        return {"type": "object", **root}
    if kind is None:
        return root  # a root anyOf without type is accepted (the branches carry it)
    raise SchemaError(f"the root of a tool schema must be an object, not {kind!r}")


def _node(value: Any, path: str, walk: _Walk, stack: tuple[str, ...], depth: int) -> Any:
    """One standalone sub-schema, typed (properties, items, anyOf branches, the root)."""
    if value is True or value == {}:
        walk.notes.append(f"{path}: an unconstrained schema became type string")
        return {"type": "string"}
    schema = _resolved(value, path, walk, stack, depth)
    if not isinstance(schema, dict) or "$ref" in schema:
        return schema  # a kept recursive reference, or a value that is not ours to judge
    if "anyOf" in schema and "type" in schema:
        schema = _type_into_branches(schema)
    if "enum" in schema:
        return _enum(schema, path, walk)
    if "type" not in schema and not any(key in schema for key in _BRANCH_KEYS):
        schema["type"] = _guess_type(schema, path, walk)
    return schema


def _resolved(value: Any, path: str, walk: _Walk, stack: tuple[str, ...], depth: int) -> Any:
    """A sub-schema with its references inlined and its children walked, types untouched."""
    if not isinstance(value, Mapping):
        return value
    if depth > _MAX_DEPTH:
        raise SchemaError(f"{path}: schema nesting deeper than {_MAX_DEPTH}")
    schema = {k: v for k, v in value.items() if k not in ("$schema", *_DEFS_KEYS)}
    if "$ref" in schema:
        return _ref(schema, path, walk, stack, depth)
    return {k: _child(k, v, path, walk, stack, depth) for k, v in schema.items()}


def _child(key: str, sub: Any, path: str, walk: _Walk, stack: tuple[str, ...], depth: int) -> Any:
    if key == "properties" and isinstance(sub, Mapping):
        return {
            name: _node(prop, f"{path}.properties.{name}", walk, stack, depth + 1)
            for name, prop in sub.items()
        }
    if key in _TYPED_KEYS and isinstance(sub, Mapping):
        return _node(sub, f"{path}.{key}", walk, stack, depth + 1)
    if key == "anyOf" and isinstance(sub, list):
        return [_node(branch, f"{path}.anyOf", walk, stack, depth + 1) for branch in sub]
    if key in _PARTIAL_KEYS and isinstance(sub, list):
        return [_resolved(branch, f"{path}.{key}", walk, stack, depth + 1) for branch in sub]
    if key in _PARTIAL_KEYS:
        return _resolved(sub, f"{path}.{key}", walk, stack, depth + 1)
    return sub


def _ref(schema: dict[str, Any], path: str, walk: _Walk, stack: tuple[str, ...], depth: int) -> Any:
    ref = schema.pop("$ref")
    schema.pop("type", None)  # §2.3 [3M]: the referenced schema carries the type
    siblings = {k: _child(k, v, path, walk, stack, depth) for k, v in schema.items()}
    if ref == "#":
        return {"$ref": "#", **siblings}  # root recursion is MFJS (§8.6)
    name = _def_name(ref, path)
    if name not in walk.defs:
        raise SchemaError(f"{path}: $ref {ref!r} points to no definition")
    if name in stack:
        if name not in walk.kept_defs:
            walk.kept_defs[name] = {}  # reserve first: the body refers to itself
            walk.kept_defs[name] = _node(walk.defs[name], f"$defs.{name}", walk, (name,), 0)
        return {"$ref": f"#/$defs/{name}", **siblings}
    target = _resolved(walk.defs[name], path, walk, (*stack, name), depth + 1)
    return {**target, **siblings} if isinstance(target, dict) else target


def _def_name(ref: Any, path: str) -> str:
    for prefix in ("#/$defs/", "#/definitions/"):
        if isinstance(ref, str) and ref.startswith(prefix) and "/" not in ref[len(prefix) :]:
            return ref[len(prefix) :]
    raise SchemaError(f"{path}: only local references (#/$defs/…) can be sent, got {ref!r}")


def _type_into_branches(schema: dict[str, Any]) -> dict[str, Any]:
    """§2.3 [3M]: "when using anyOf, type should be defined in anyOf items"."""
    kind = schema.pop("type")
    branches = []
    for branch in schema["anyOf"]:
        if isinstance(branch, dict) and "type" not in branch and "$ref" not in branch:
            branch = {**branch, "type": kind}
        branches.append(branch)
    schema["anyOf"] = branches
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fits(value: Any, kinds: list[str]) -> bool:
    kind = _json_type(value)
    return kind in kinds or (kind == "integer" and "number" in kinds)


def _enum(schema: dict[str, Any], path: str, walk: _Walk) -> dict[str, Any]:
    values = schema["enum"]
    if not isinstance(values, list) or not values:
        return schema
    declared = schema.get("type")
    kinds = declared if isinstance(declared, list) else [declared] if declared else []
    if kinds:
        kept = [v for v in values if _fits(v, kinds)]
        dropped = [v for v in values if not _fits(v, kinds)]
        if dropped:
            walk.notes.append(f"{path}: enum values {dropped!r} do not match type {declared!r}")
        values = kept
    groups: dict[str, list[Any]] = {}
    for value in values:
        kind = _json_type(value)
        if kind == "integer" and ("number" in kinds or any(isinstance(v, float) for v in values)):
            kind = "number"
        groups.setdefault(kind, []).append(value)
    rest = {k: v for k, v in schema.items() if k not in ("enum", "type")}
    if len(groups) <= 1:
        kind = next(iter(groups), declared if isinstance(declared, str) else "string")
        return {**rest, "type": kind, **({"enum": values} if values else {})}
    # One type per enum (§8.6 [O] WALLE): an enum mixing types becomes anyOf of typed enums.
    branches = [
        {"type": "null"} if k == "null" else {"type": k, "enum": v} for k, v in groups.items()
    ]
    return {**rest, "anyOf": branches}


def _guess_type(schema: Mapping[str, Any], path: str, walk: _Walk) -> str:
    """[O-code] KOSONG-TS kimi-schema.ts: guess from the keywords, else ``"string"``."""
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if "const" in schema:
        return _json_type(schema["const"])
    walk.notes.append(f"{path}: a schema without type became type string")
    return "string"
