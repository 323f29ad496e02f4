"""What a render to Responses wire cannot carry is reported, and nothing else is."""

from __future__ import annotations

from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    Request,
    Response,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses import parse_request, render_response
from kimi_gateway.dialects.openai_responses.losses import request_losses, response_losses


def test_a_plain_reply_loses_nothing() -> None:
    response = Response(
        "resp_1",
        "m",
        (ThinkingPart("t"), TextPart("x"), ToolCallPart("c", "f", "{}")),
        "tool_use",
        Usage(),
    )
    assert response_losses(response) == ()


def test_reply_losses() -> None:
    response = Response(
        "resp_1",
        "m",
        (
            ThinkingPart("t", signature="sig"),
            ImagePart("url", "http://x"),
            OpaquePart("refusal", {"refusal": "no"}),
            ToolCallPart("c", "$calc", "{}", kind="builtin_function"),
            ToolCallPart("w", "$web_search", '{"query":"kimi"}', kind="builtin_function"),
        ),
        "stop_sequence",
        Usage(),
        stop_sequence="END",
    )
    assert response_losses(response) == (
        Diagnostic("dropped_signature", "reply: thinking signatures have no form"),
        Diagnostic("changed_tool_kind", "reply: builtin calls render as functions"),
        Diagnostic("changed_stop_reason", "'stop_sequence' renders as 'completed'"),
        Diagnostic("dropped_stop_sequence", "Responses replies do not name the stop"),
        Diagnostic("dropped_parts", "reply images / unknown blocks have no form"),
    )
    output = render_response(response)["output"]
    assert [item["type"] for item in output] == [
        "reasoning",
        "message",
        "message",
        "function_call",
        "web_search_call",
    ]
    assert output[4] == {
        "id": "ws_1_4",
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "kimi"},
    }
    assert output[1]["content"] == []
    assert output[2]["content"] == [{"refusal": "no", "type": "refusal"}]


def test_a_parsed_codex_style_request_loses_nothing() -> None:
    body = {"model": "m", "instructions": "i", "input": "x", "reasoning": {"effort": "low"}}
    assert request_losses(parse_request(body)) == ()


def test_request_losses() -> None:
    request = Request(
        model="m",
        system=(TextPart("a"), TextPart("b")),
        messages=(Message("user", (ToolResultPart("c", (), is_error=True),), name="n"),),
        tools=(Tool("$web_search", kind="builtin_function"),),
        thinking=ThinkingConfig("enabled", budget_tokens=100),
        stop=("x",),
        n=2,
    )
    assert request_losses(request) == (
        Diagnostic("changed_thinking", "only reasoning.effort has a Responses form"),
        Diagnostic("merged_system", "system blocks joined into one 'instructions'"),
        Diagnostic("dropped_param", "no Responses form: ['stop', 'n']"),
        Diagnostic("changed_tool_kind", "builtin_function tools render as functions"),
        Diagnostic("dropped_name", "messages[0].name has no Responses form"),
        Diagnostic("dropped_tool_result_field", "messages[0].parts[0]: is_error / name"),
    )
