"""losses.py: what an OpenAI render cannot carry is reported, and nothing else."""

from __future__ import annotations

from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    Request,
    Response,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat.losses import request_losses, response_losses


def test_request_losses() -> None:
    request = Request(
        "m",
        (
            Message("user", (TextPart("hi", cache=True),)),
            Message(
                "assistant",
                (
                    ThinkingPart("a", signature="sig"),
                    ThinkingPart("", redacted=True, provider_data={"data": "x"}),
                    ThinkingPart("b"),
                    ToolCallPart("t", "f", "{}"),
                ),
            ),
            Message("user", (ToolResultPart("t", (TextPart("boom"),), is_error=True),)),
        ),
    )
    assert request_losses(request) == (
        Diagnostic("dropped_redacted_thinking", "messages[1]: redacted thinking has no form"),
        Diagnostic("merged_thinking", "messages[1]: thinking blocks joined into one text"),
        Diagnostic("dropped_is_error", "messages[2].parts[0]: tool error flag dropped"),
    )


def test_a_plain_request_loses_nothing() -> None:
    request = Request(
        "m",
        (
            Message("user", (TextPart("hi", cache=True), ImagePart("file", "f"))),
            Message("assistant", (ThinkingPart("a", signature="s"), TextPart("x"))),
        ),
        system=(TextPart("s", cache=True),),
    )
    assert request_losses(request) == ()


def test_response_losses() -> None:
    response = Response(
        "r",
        "m",
        (
            ThinkingPart("a"),
            ThinkingPart("", redacted=True),
            ThinkingPart("b"),
            TextPart("t"),
            ImagePart("url", "https://e.com/i.png"),
            OpaquePart("x", {"type": "x"}),
        ),
        "stop_sequence",
        Usage(input_uncached=1, input_cache_write=5),
        stop_sequence="END",
    )
    assert response_losses(response) == (
        Diagnostic("dropped_stop_sequence", "OpenAI replies do not name the stop"),
        Diagnostic("dropped_parts", "reply parts with no OpenAI form: ['ImagePart', 'OpaquePart']"),
        Diagnostic("dropped_redacted_thinking", "redacted thinking has no form"),
        Diagnostic("merged_thinking", "thinking blocks joined into one text"),
        Diagnostic("merged_cache_write", "cache-write tokens reported as plain prompt tokens"),
    )
    plain = Response("r", "m", (ThinkingPart("a"), TextPart("t")), "end_turn", Usage(3, 4, 0, 5, 1))
    assert response_losses(plain) == ()
