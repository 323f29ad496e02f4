"""Responses requests: the captured Codex request, each field as a whole value both ways, and
errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    OpenAIResponsesFields,
    Request,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from kimi_gateway.dialects.openai_responses import parse_request, render_request

CODEX = Path(__file__).parents[2] / "fixtures" / "clients" / "codex_responses_request.json"


def codex_body() -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(CODEX.read_bytes())["body"]
    return body


def normalised(body: dict[str, Any]) -> dict[str, Any]:
    """The documented normalisations: input item ids dropped; hosted tools after functions."""
    out = dict(body)
    out["input"] = [{k: v for k, v in item.items() if k != "id"} for item in body["input"]]
    tools = body["tools"]
    out["tools"] = [t for t in tools if t["type"] == "function"] + [
        t for t in tools if t["type"] != "function"
    ]
    return out


def test_codex_request_parses() -> None:
    body = codex_body()
    request = parse_request(body)
    texts = [[p.text for p in m.parts if isinstance(p, TextPart)] for m in request.messages]
    assert [m.role for m in request.messages] == ["system", "system", "user", "user"]
    assert texts == [[part["text"] for part in item["content"]] for item in body["input"]]
    assert request.system == ()
    assert [t.name for t in request.tools] == [
        t["name"] for t in body["tools"] if t["type"] == "function"
    ]
    assert request.tools[0] == Tool(
        "exec_command",
        body["tools"][0]["description"],
        body["tools"][0]["parameters"],
        strict=False,
    )
    assert request.tool_choice == ToolChoice("auto", parallel=True)
    assert request.thinking is None
    assert request.stream is True
    assert request.prompt_cache_key == body["prompt_cache_key"]
    assert request.openai_responses == OpenAIResponsesFields(
        hosted_tools=(body["tools"][4], body["tools"][8]),
        reasoning={"summary": "auto"},
        store=False,
        include=("reasoning.encrypted_content",),
        passthrough={"client_metadata": body["client_metadata"]},
    )
    assert request.diagnostics == (
        Diagnostic("hosted_tool", "tools[4]: namespace tool 'multi_agent_v1' kept aside"),
        Diagnostic("hosted_tool", "tools[8]: web_search tool 'web_search' kept aside"),
    )


def test_codex_request_renders_back_without_loss() -> None:
    body = codex_body()
    assert render_request(parse_request(body)) == normalised(body)


def test_a_codex_tool_turn_round_trips() -> None:
    """History as Codex sends it after a tool call: reasoning, a message, a function call and
    its output; the assistant-side items form one assistant message."""
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Plan."}],
        "encrypted_content": "gAAA",
    }
    call = {
        "type": "function_call",
        "call_id": "call_1",
        "name": "exec_command",
        "arguments": '{"cmd": "ls"}',
    }
    say = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Looking.", "annotations": []}],
    }
    output = {"type": "function_call_output", "call_id": "call_1", "output": "a.txt\n"}
    body = {"model": "m", "input": [reasoning, say, call, output]}
    request = parse_request(body)
    assert request.messages == (
        Message(
            "assistant",
            (
                ThinkingPart(
                    "Plan.",
                    provider_data={
                        "id": "rs_1",
                        "summary": reasoning["summary"],
                        "encrypted_content": "gAAA",
                    },
                ),
                TextPart("Looking."),
                ToolCallPart("call_1", "exec_command", '{"cmd": "ls"}'),
            ),
        ),
        Message("user", (ToolResultPart("call_1", (TextPart("a.txt\n"),)),)),
    )
    assert render_request(request) == body


def test_input_string_and_instructions() -> None:
    request = parse_request({"model": "m", "instructions": "Be brief.", "input": "hi"})
    assert request == Request(
        model="m", messages=(Message("user", (TextPart("hi"),)),), system=(TextPart("Be brief."),)
    )
    assert render_request(request) == {
        "model": "m",
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ],
    }


def test_scalar_fields_both_ways() -> None:
    body = {
        "model": "m",
        "input": "x",
        "max_output_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "stream": True,
        "metadata": {"a": "b"},
        "user": "u1",
        "prompt_cache_key": "k",
        "store": False,
        "truncation": "auto",
        "service_tier": "auto",
    }
    request = parse_request(body)
    assert (request.max_tokens, request.temperature, request.top_p, request.stream) == (
        100,
        0.5,
        0.9,
        True,
    )
    assert (request.metadata, request.user, request.prompt_cache_key) == ({"a": "b"}, "u1", "k")
    assert request.openai_responses == OpenAIResponsesFields(
        store=False, passthrough={"truncation": "auto", "service_tier": "auto"}
    )
    rendered = render_request(request)
    assert rendered == {**body, "input": rendered["input"]}


def test_reasoning_effort_is_thinking() -> None:
    request = parse_request(
        {"model": "m", "input": "x", "reasoning": {"effort": "high", "summary": "detailed"}}
    )
    assert request.thinking == ThinkingConfig("enabled", effort="high")
    assert request.openai_responses == OpenAIResponsesFields(reasoning={"summary": "detailed"})
    assert render_request(request)["reasoning"] == {"effort": "high", "summary": "detailed"}
    off = parse_request({"model": "m", "input": "x", "reasoning": {"effort": "none"}})
    assert off.thinking == ThinkingConfig("disabled", effort="none")
    assert render_request(off)["reasoning"] == {"effort": "none"}


def test_text_format_is_response_format() -> None:
    fmt = {"type": "json_schema", "name": "r", "schema": {"type": "object"}, "strict": True}
    request = parse_request(
        {"model": "m", "input": "x", "text": {"format": fmt, "verbosity": "low"}}
    )
    assert request.response_format == {
        "type": "json_schema",
        "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": True},
    }
    assert request.openai_responses == OpenAIResponsesFields(text={"verbosity": "low"})
    assert render_request(request)["text"] == {"format": fmt, "verbosity": "low"}
    plain = parse_request({"model": "m", "input": "x", "text": {"format": {"type": "json_object"}}})
    assert plain.response_format == {"type": "json_object"}


def test_tool_choice_forms() -> None:
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object"}}]
    named = {
        "model": "m",
        "input": "x",
        "tools": tools,
        "tool_choice": {"type": "function", "name": "f"},
        "parallel_tool_calls": False,
    }
    request = parse_request(named)
    assert request.tools == (Tool("f", parameters={"type": "object"}),)
    assert request.tool_choice == ToolChoice("tool", "f", parallel=False)
    rendered = render_request(request)
    assert rendered == {**named, "input": rendered["input"]}
    for mode in ("auto", "none", "required"):
        body = {"model": "m", "input": "x", "tool_choice": mode}
        assert parse_request(body).tool_choice == ToolChoice(mode)
    hosted = parse_request({"model": "m", "input": "x", "tool_choice": {"type": "web_search"}})
    assert hosted.tool_choice is None
    assert hosted.openai_responses == OpenAIResponsesFields(tool_choice={"type": "web_search"})
    assert hosted.diagnostics == (Diagnostic("dropped_param", "tool_choice of type 'web_search'"),)


def test_content_parts() -> None:
    content = [
        {"type": "input_text", "text": "see"},
        {"type": "input_image", "image_url": "data:image/jpeg;base64,QUJD", "detail": "low"},
        {"type": "input_image", "image_url": "https://x/y.png", "detail": "auto"},
        {"type": "input_image", "file_id": "file-1", "detail": "high"},
        {"type": "input_file", "file_id": "file-2"},
    ]
    body = {"model": "m", "input": [{"type": "message", "role": "user", "content": content}]}
    request = parse_request(body)
    assert request.messages == (
        Message(
            "user",
            (
                TextPart("see"),
                ImagePart("base64", "QUJD", "image/jpeg", "low"),
                ImagePart("url", "https://x/y.png", detail="auto"),
                ImagePart("file", "file-1", detail="high"),
                OpaquePart("input_file", {"type": "input_file", "file_id": "file-2"}),
            ),
        ),
    )
    assert request.diagnostics == (
        Diagnostic(
            "opaque_part", "input[0].content[4]: 'input_file' parts are passed on only to Responses"
        ),
    )
    assert render_request(request) == body


def test_unknown_items_are_kept_and_reported() -> None:
    shell = {"type": "local_shell_call", "call_id": "s1", "action": {}}
    ref = {"type": "item_reference", "id": "msg_0"}
    request = parse_request({"model": "m", "input": [shell, ref]})
    assert request.messages == (
        Message("assistant", (OpaquePart("responses_item", shell),)),
        Message("user", (OpaquePart("responses_item", ref),)),
    )
    assert [d.code for d in request.diagnostics] == ["opaque_item", "opaque_item"]
    assert render_request(request)["input"] == [shell, ref]


def test_consecutive_outputs_merge_and_user_text_does_not() -> None:
    out1 = {"type": "function_call_output", "call_id": "a", "output": ""}
    out2 = {
        "type": "function_call_output",
        "call_id": "b",
        "output": [
            {"type": "input_text", "text": "t"},
            {"type": "input_image", "file_id": "f", "detail": "auto"},
        ],
    }
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "u"}]}
    request = parse_request({"model": "m", "input": [out1, out2, user]})
    assert request.messages == (
        Message(
            "user",
            (
                ToolResultPart("a", ()),
                ToolResultPart("b", (TextPart("t"), ImagePart("file", "f", detail="auto"))),
            ),
        ),
        Message("user", (TextPart("u"),)),
    )
    assert render_request(request)["input"] == [out1, out2, user]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "input": "x", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"model": "m", "input": "x", "conversation": "conv_1"}, "conversation"),
        ({"model": "m"}, "input"),
        ({"input": "x"}, "model"),
        ({"model": "m", "input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
        ({"model": "m", "input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id"),
        ({"model": "m", "input": [{"role": "user", "content": 3}]}, "input[0].content"),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]},
            "input[0].content[0].image_url",
        ),
        ({"model": "m", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "m", "input": "x", "tool_choice": "any"}, "tool_choice"),
        ({"model": "m", "input": "x", "max_output_tokens": "9"}, "max_output_tokens"),
        ({"model": "m", "input": "x", "reasoning": {"effort": 1}}, "reasoning.effort"),
        ({"model": "m", "input": "x", "text": {"format": {}}}, "text.format.type"),
    ],
)
def test_errors_name_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(TranslationError) as info:
        parse_request(body)
    assert info.value.param == param


def test_previous_response_id_says_why() -> None:
    with pytest.raises(TranslationError) as info:
        parse_request({"model": "m", "input": "x", "previous_response_id": "resp_1"})
    assert "no conversation state is kept" in info.value.message


def test_a_namespaced_call_in_history_is_reported() -> None:
    call = {
        "type": "function_call",
        "call_id": "c",
        "name": "spawn_agent",
        "namespace": "multi_agent_v1",
        "arguments": "{}",
    }
    request = parse_request({"model": "m", "input": [call]})
    assert request.messages == (Message("assistant", (ToolCallPart("c", "spawn_agent", "{}"),)),)
    assert request.diagnostics == (
        Diagnostic("dropped_namespace", "input[0].namespace has no canonical form"),
    )
