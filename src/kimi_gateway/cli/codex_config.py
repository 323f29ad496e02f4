"""Codex CLI's ``~/.codex/config.toml`` for the gateway: the fragment, the merge, the file.

Codex (``@openai/codex`` 0.169) speaks only the Responses API: a custom model provider with
``wire_api = "responses"`` and a ``base_url`` ending in ``/v1`` (it appends ``/responses``), and
offline it needs ``check_for_update_on_startup = false``, ``[features] plugins = false`` and
``[analytics] enabled = false`` (docs/kimi.md §F1.3). The key goes in the provider's
``experimental_bearer_token`` (so the written file alone is enough; the file is the user's own,
mode 0600 when new) or, with ``key_env``, Codex reads it from that environment variable
(``env_key``). Both were run against the real Codex here, ``--strict-config`` included.

Merging keeps the rest of the user's config: our provider table is replaced whole, ``model`` /
``model_provider`` point at it, ``features`` and ``analytics`` are merged key by key. TOML is
read with tomllib and written back by :func:`dumps` (plain tables, scalars, arrays; comments in
an existing file are not kept, so the command says so and keeps a ``.bak`` copy).
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

CONTEXT_WINDOW = 262_144  # Kimi K2.5+ and Kimi Code (docs/kimi.md §4.1): Codex has no metadata


def fragment(
    base_url: str, key: str, model: str, provider: str, key_env: str | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": provider,
        "base_url": base_url.rstrip("/") + "/v1",
        "wire_api": "responses",
    }
    if key_env is not None:
        entry["env_key"] = key_env
    else:
        entry["experimental_bearer_token"] = key
    return {
        "model": model,
        "model_provider": provider,
        "model_context_window": CONTEXT_WINDOW,
        "check_for_update_on_startup": False,
        "model_providers": {provider: entry},
        "features": {"plugins": False},
        "analytics": {"enabled": False},
    }


def merge(existing: Mapping[str, Any], ours: Mapping[str, Any], provider: str) -> dict[str, Any]:
    merged = dict(existing)
    for key, value in ours.items():
        old = merged.get(key)
        if key == "model_providers" and isinstance(old, Mapping):
            merged[key] = {**{k: v for k, v in old.items() if k != provider}, **value}
        elif isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = {**old, **value}
        else:
            merged[key] = value
    return merged


def read(path: Path) -> dict[str, Any]:
    """The TOML document at ``path`` ({} when there is none); ValueError when it is not TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML ({exc}); not touching it") from None


def _key(name: str) -> str:
    bare = name and all(c.isalnum() or c in "-_" for c in name) and name.isascii()
    return name if bare else _scalar(name)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return orjson.dumps(value).decode()  # JSON string escapes are valid TOML
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dumps(data: Mapping[str, Any], prefix: str = "") -> str:
    """TOML text for ``data``: root keys first, then each table (arrays of tables as [[…]])."""
    lines = [
        f"{_key(k)} = {_scalar(v)}"
        for k, v in data.items()
        if not isinstance(v, Mapping) and not _is_table_list(v)
    ]
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in data.items():
        name = f"{prefix}{_key(k)}"
        if isinstance(v, Mapping):
            body = dumps(v, name + ".")
            has_scalars = any(not isinstance(x, Mapping) for x in v.values()) or not v
            out += (f"\n[{name}]\n" if has_scalars else "") + body
        elif _is_table_list(v):
            for entry in v:
                out += f"\n[[{name}]]\n" + dumps(entry, name + ".")
    return out
