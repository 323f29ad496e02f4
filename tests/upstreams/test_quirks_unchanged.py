"""An agent's history that needs no fix-up goes through the quirk layer as it is: the same
Message objects, not copies (issue 15 item 3: copying every message of a 150 KB history on
every turn was a third of the quirk layer's time). Messages that do need a fix still get one."""

from __future__ import annotations

from kimi_gateway.core.model import Message, TextPart, ToolResultPart
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.kimi.quirks import apply_quirks
from kimi_gateway.upstreams.kimi.quirks_messages import (
    clean_reasoning_details,
    fill_empty_tool_results,
    flatten_opaque_parts,
)

from .canonical import ctx, request, tool_turn, user


def _history() -> tuple[Message, ...]:
    turns = [m for i in range(20) for m in tool_turn(f"get_weather:{i}", reasoning="think")]
    return (*turns, user("and now?"))


def test_a_history_needing_no_fix_keeps_every_message_object() -> None:
    raw = request("kimi-k2.6", *_history())
    fixed = apply_quirks(raw, profile_for("kimi-k2.6", product="platform"), QuirkPolicy())
    assert len(fixed.messages) == len(raw.messages)
    assert all(new is old for new, old in zip(fixed.messages, raw.messages, strict=True))


def test_each_part_mapping_quirk_returns_the_request_itself_when_nothing_changes() -> None:
    raw = request("kimi-k2.6", *_history())
    for quirk in (fill_empty_tool_results, clean_reasoning_details, flatten_opaque_parts):
        assert quirk(raw, ctx()) is raw


def test_only_the_message_that_needs_a_fix_is_replaced() -> None:
    history = _history()
    empty = Message("user", (ToolResultPart("get_weather:3", (TextPart(""),)),))
    raw = request("kimi-k2.6", *history[:10], empty, *history[11:])
    fixed = fill_empty_tool_results(raw, ctx())
    assert fixed.messages[10] == Message(
        "user", (ToolResultPart("get_weather:3", (TextPart("(empty)"),)),)
    )
    kept = [i for i in range(len(raw.messages)) if fixed.messages[i] is raw.messages[i]]
    assert kept == [i for i in range(len(raw.messages)) if i != 10]
