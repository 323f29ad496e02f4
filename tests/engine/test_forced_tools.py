"""The forced-call rules of engine/forced_tools.py (issue 9 item 4, docs/kimi.md §8.4, §18.1):
when the engine checks a reply, what satisfies a forced choice, what the re-ask sends."""

from __future__ import annotations

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import Finish, PartStart, StreamError, TextDelta
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    Request,
    Response,
    TextPart,
    ThinkingConfig,
    ToolCallPart,
    ToolChoice,
)
from kimi_gateway.core.upstream import Batch
from kimi_gateway.core.usage import Usage
from kimi_gateway.engine.forced_tools import (
    ReplyOptions,
    needs_guard,
    reask,
    relaxed_choice,
    settled,
)

REQUIRED = ToolChoice("required")
NAMED = ToolChoice("tool", name="get_weather")
NUDGED = Diagnostic("nudged_tool_choice", "tool_choice 'required' replaced by …")
OFF = Diagnostic("changed_thinking", "thinking disabled: tool_choice forcing required needs it off")


def _request(choice: ToolChoice | None, **fields: object) -> Request:
    return Request("kimi-k2.6", (Message("user", (TextPart("q"),)),), tool_choice=choice, **fields)  # type: ignore[arg-type]


def test_only_a_forced_choice_the_gateway_relaxed_is_checked() -> None:
    assert relaxed_choice(_request(REQUIRED), (NUDGED,)) == REQUIRED
    assert relaxed_choice(_request(NAMED), (OFF,)) == NAMED
    other = Diagnostic("changed_thinking", "effort=high has no Kimi form")
    assert relaxed_choice(_request(REQUIRED), (other,)) is None
    assert relaxed_choice(_request(ToolChoice("auto")), (NUDGED,)) is None
    assert relaxed_choice(_request(None), (NUDGED,)) is None


def test_needs_guard() -> None:
    options = ReplyOptions()
    assert needs_guard(_request(REQUIRED), "openai_chat", (NUDGED,), options)
    assert not needs_guard(_request(REQUIRED), "openai_chat", (), options)
    assert needs_guard(_request(None), "anthropic_messages", (), options)
    thinking = _request(None, thinking=ThinkingConfig("enabled"))
    assert not needs_guard(thinking, "anthropic_messages", (), options)
    shown = ReplyOptions(show_unrequested_thinking=True)
    assert not needs_guard(_request(None), "anthropic_messages", (), shown)


def _call(index: int, name: str) -> PartStart:
    return PartStart(index, "tool_call", tool_call_id=f"{name}:0", tool_name=name)


def test_what_settles_a_streamed_reply() -> None:
    text: list[Batch] = [[PartStart(0, "text"), TextDelta(0, "hi")], [Finish("end_turn")]]
    assert not settled(text, None, REQUIRED)
    other: list[Batch] = [[_call(0, "get_time")]]
    assert settled(other, None, REQUIRED)
    assert not settled(other, None, NAMED)
    assert settled([[_call(0, "get_time"), _call(1, "get_weather")]], None, NAMED)
    assert settled([[StreamError(GatewayError("server", "x"))]], None, NAMED)
    assert settled([[Finish("max_tokens")]], None, NAMED)


def test_what_settles_a_whole_reply() -> None:
    def reply(*parts: TextPart | ToolCallPart, stop: str = "end_turn") -> Response:
        return Response("r", "m", parts, stop_reason=stop, usage=Usage())  # type: ignore[arg-type]

    assert not settled(None, reply(TextPart("hi")), REQUIRED)
    assert settled(None, reply(ToolCallPart("c", "get_weather", "{}")), NAMED)
    assert settled(None, reply(TextPart("hi"), stop="max_tokens"), NAMED)


def test_the_reask_adds_one_user_message() -> None:
    options = ReplyOptions(forced_tool_reask_named_text="Call {name} {now}")
    asked = reask(_request(NAMED), NAMED, options)
    assert asked.messages[-1] == Message("user", (TextPart("Call get_weather {now}"),))
    assert asked.messages[:-1] == _request(NAMED).messages
    plain = reask(_request(REQUIRED), REQUIRED, ReplyOptions())
    assert plain.messages[-1].parts == (TextPart(ReplyOptions().forced_tool_reask_text),)
