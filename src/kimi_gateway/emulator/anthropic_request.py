"""Parse and validate the top level of an Anthropic Messages request for the emulator.

What belongs here: `model`, `max_tokens`, `stream`, `system`/`messages` (delegated to
`anthropic_messages`), `tools`, `tool_choice`, `thinking`, `stop_sequences`, `output_config`.
Model lookup, thinking resolution per model and the context check need the face and the
catalog, so they live in `anthropic_face`.

Fields Kimi accepts and ignores are not checked: `metadata` (Kimi's client uses `user_id` as the
cache key, §13.1), `context_management`, `temperature`/`top_p`/`top_k` (measured accepted and
unread on Kimi Code's Messages face, [3M] HALRO kimi-code-subscription-evidence 2026-09-22),
`service_tier` and any unknown member ([3M] HALRO: "an unknown member | 200, ignored").
Messages Kimi does not publish are marked invented and borrow Anthropic's `field: reason` form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimi_gateway.emulator import mfjs, rules
from kimi_gateway.emulator.anthropic_messages import (
    ContentPolicy,
    neutral_messages,
    system_message,
)
from kimi_gateway.emulator.errors import invalid_request
from kimi_gateway.emulator.script import NeutralMessage

TOOL_CHOICES = ("auto", "any", "none", "tool")


@dataclass(frozen=True)
class MessagesRequest:
    """The validated request, in the terms the face needs."""

    model: str
    stream: bool
    max_tokens: int
    messages: tuple[NeutralMessage, ...]  # the top-level system first, when there is one
    tool_names: tuple[str, ...]
    tool_choice: str  # one of TOOL_CHOICES
    forced_tool: str | None  # the name when tool_choice is "tool"
    # Kimi's OpenAI-style `thinking` value (rules.resolve_thinking reads it), or None.
    thinking: dict[str, str] | None
    stop_sequences: tuple[str, ...]


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None:
        raise invalid_request(f"{name}: Field required")  # invented (Anthropic's wording)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_request(f"{name}: Input should be a valid integer")  # invented
    if value < 1:
        raise invalid_request(f"{name}: Input should be greater than or equal to 1")  # invented
    return value


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid_request("model: Field required")  # invented (Anthropic's wording)
    return model


def _stream(body: dict[str, Any]) -> bool:
    value = body.get("stream", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_request("stream: Input should be a valid boolean")  # invented
    return value


def _tool_name(index: int, tool: Any, strict_schemas: bool) -> str:
    if not isinstance(tool, dict):
        raise invalid_request(f"tools.{index}: Input should be an object")  # invented
    kind = tool.get("type")
    if kind not in (None, "custom"):
        # Kimi runs no Anthropic server tools; the text is invented.
        raise invalid_request(f"tools.{index}: unsupported tool type '{kind}'")
    name = tool.get("name")
    mfjs.validate_tool_name(name)
    if "input_schema" not in tool:
        raise invalid_request(f"tools.{index}.input_schema: Field required")  # invented
    # The Anthropic face checks input_schema as the OpenAI face checks parameters (§8.6): the
    # live MFJS rejections (§2.3) were reported by Claude Code users on this very face.
    mfjs.validate_parameters(tool["input_schema"], strict_schemas)
    return str(name)


def tool_names(tools: Any, strict_schemas: bool) -> tuple[str, ...]:
    """Validate `tools`: the 128-tool cap, names, duplicates, MFJS input schemas."""
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise invalid_request("tools: Input should be a valid list")  # invented
    rules.check_tool_count(tools)
    names: list[str] = []
    for index, tool in enumerate(tools):
        name = _tool_name(index, tool, strict_schemas)
        rules.check_new_tool_name(name, names)
        names.append(name)
    return tuple(names)


def tool_choice(value: Any, names: tuple[str, ...]) -> tuple[str, str | None]:
    """`(kind, forced tool name)`; §14 [3M] HALRO: auto, any and none are accepted."""
    if value is None:
        return "auto", None
    kind = value.get("type") if isinstance(value, dict) else None
    if not isinstance(value, dict) or kind not in TOOL_CHOICES:
        allowed = ", ".join(TOOL_CHOICES)
        raise invalid_request(f"tool_choice.type: must be one of {allowed}")  # invented
    if kind != "tool":
        return str(kind), None
    name = value.get("name")
    if not isinstance(name, str) or name not in names:
        raise invalid_request(f"tool_choice.name: tool '{name}' is not in tools")  # invented
    return "tool", name


def thinking_field(value: Any) -> dict[str, str] | None:
    """Anthropic `thinking` → Kimi's `{"type": "enabled"|"disabled"}`.

    `enabled` with or without `budget_tokens` ([O-code] KOSONG-TS sends none; [3M] HERMES,
    HALRO send one) and Claude Code's `adaptive` (docs/kimi.md §F1) both turn thinking on.
    """
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if not isinstance(value, dict) or kind not in ("enabled", "adaptive", "disabled"):
        raise invalid_request("thinking.type: must be one of enabled, adaptive, disabled")
    budget = value.get("budget_tokens")
    if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool)):
        raise invalid_request("thinking.budget_tokens: Input should be a valid integer")
    return {"type": "disabled" if kind == "disabled" else "enabled"}


def _stop_sequences(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid_request("stop_sequences: Input should be a valid list")  # invented
    # The Kimi bounds of §5.1 (5 entries, 32 bytes) with the texts measured on the chat face
    # (§2.3 [3M] HALRO); HALRO found stop_sequences honoured on the Messages face too.
    rules.check_stop(value)
    return tuple(value)


def _check_output_config(value: Any) -> None:
    # §14 [3M] HALRO: `effort` and `format` are accepted; Kimi Code takes any effort string
    # ([3M] HALRO evidence, "reasoning_effort at minimal/medium/xhigh/nonsense: 200").
    if value is not None and not isinstance(value, dict):
        raise invalid_request("output_config: Input should be an object")  # invented


def parse_request(body: Any, policy: ContentPolicy, strict_schemas: bool) -> MessagesRequest:
    """Validate the whole body (already JSON-decoded) in the order a client would fix it."""
    if not isinstance(body, dict):
        raise invalid_request("Invalid request: body must be a JSON object")  # invented
    model = _model(body)
    max_tokens = _int_field(body, "max_tokens")
    system = system_message(body.get("system"))
    messages = neutral_messages(body.get("messages"), policy)
    names = tool_names(body.get("tools"), strict_schemas)
    choice, forced = tool_choice(body.get("tool_choice"), names)
    _check_output_config(body.get("output_config"))
    return MessagesRequest(
        model=model,
        stream=_stream(body),
        max_tokens=max_tokens,
        messages=((system,) if system is not None else ()) + messages,
        tool_names=names,
        tool_choice=choice,
        forced_tool=forced,
        thinking=thinking_field(body.get("thinking")),
        stop_sequences=_stop_sequences(body.get("stop_sequences")),
    )
