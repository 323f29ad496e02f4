"""End to end against the Kimi emulator's Anthropic faces (a real server on 127.0.0.1):
render_request's output is accepted, and the JSON and SSE replies parse with this dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kimi_gateway.core.fold import fold
from kimi_gateway.core.model import (
    Message,
    Request,
    Response,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.dialects.anthropic_messages import (
    StreamParser,
    parse_error,
    parse_request,
    parse_response,
    render_request,
)
from kimi_gateway.emulator.script import DEFAULT_REASONING, DEFAULT_REPLY, TOOL_RESULT_PREFIX
from kimi_gateway.emulator.server import EmulatorServer

FACES = [
    pytest.param("/anthropic/v1/messages", "kimi-k2.5", "sk-test-platform", id="open-platform"),
    pytest.param("/coding/v1/messages", "kimi-for-coding", "sk-kimi-test", id="kimi-code"),
]
BASH = Tool(
    "Bash",
    "Run a shell command",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
)
FIRST_TURN = Message(
    "user",
    (
        TextPart(
            '@@thinking@@ @@text:Running it.@@ @@tool:Bash {"command": "echo hi"}@@', cache=True
        ),
    ),
)


def post(server: EmulatorServer, path: str, key: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return httpx.post(server.url + path, content=orjson.dumps(body), headers=headers, timeout=10)


def stream(server: EmulatorServer, path: str, key: str, body: dict[str, Any]) -> Response:
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    decoder, parser, events = SSEDecoder(), StreamParser(), []
    url = server.url + path
    with httpx.stream(
        "POST", url, content=orjson.dumps(body), headers=headers, timeout=10
    ) as reply:
        assert reply.status_code == 200
        for chunk in reply.iter_bytes():
            for event in decoder.decode(chunk):
                events += parser.feed(event)
    for event in decoder.flush():
        events += parser.feed(event)
    return fold(events + parser.close())


@pytest.mark.parametrize(("path", "model", "key"), FACES)
def test_a_thinking_tool_turn_then_a_streamed_answer(
    kimi_emulator: EmulatorServer, path: str, model: str, key: str
) -> None:
    request = Request(
        model=model,
        max_tokens=1000,
        system=(TextPart("You are terse.", cache=True),),
        messages=(FIRST_TURN,),
        tools=(BASH,),
        thinking=ThinkingConfig("enabled", budget_tokens=2048),
    )
    reply = post(kimi_emulator, path, key, render_request(request))
    assert reply.status_code == 200, reply.text
    first = parse_response(reply.json())
    thinking, text, call = first.parts
    assert isinstance(thinking, ThinkingPart)
    assert isinstance(call, ToolCallPart)
    assert (thinking.text, bool(thinking.signature), text) == (
        DEFAULT_REASONING,
        True,
        TextPart("Running it."),
    )
    assert (call.name, call.arguments, first.stop_reason, first.model) == (
        "Bash",
        '{"command":"echo hi"}',
        "tool_use",
        "kimi-for-coding" if "coding" in path else "kimi-k2.5",
    )
    assert first.usage.input_uncached > 0
    assert first.usage.output >= first.usage.reasoning > 0

    # Turn two replays the signed thinking byte-exact (Kimi Code checks it, docs/kimi.md §13.3),
    # with a mid-conversation system message and the tool result behind a text part: the
    # renderer moves it first.
    follow_up = Request(
        model=model,
        max_tokens=1000,
        stream=True,
        messages=(
            FIRST_TURN,
            Message("system", (TextPart("Answer in two words."),)),
            Message("assistant", first.parts),
            Message(
                "user", (TextPart("@@text:All done.@@"), ToolResultPart(call.id, (TextPart("hi"),)))
            ),
        ),
        tools=(BASH,),
        thinking=ThinkingConfig("enabled", budget_tokens=2048),
    )
    second = stream(kimi_emulator, path, key, render_request(follow_up))
    # The emulator echoes the tool result it saw (so the pairing is proven) and thinks again.
    again, answer = second.parts
    assert isinstance(again, ThinkingPart)
    assert (again.text, bool(again.signature), answer) == (
        DEFAULT_REASONING,
        True,
        TextPart(TOOL_RESULT_PREFIX + "hi\nAll done."),
    )
    assert (second.stop_reason, second.id.startswith("msg_"), second.model) == (
        "end_turn",
        True,
        first.model,
    )
    assert second.usage.input_uncached + second.usage.input_cache_read > first.usage.input_uncached


def test_claude_codes_tool_reference_is_flattened_so_kimi_code_accepts_it(
    kimi_emulator: EmulatorServer,
) -> None:
    body: dict[str, Any] = {
        "model": "kimi-for-coding",
        "max_tokens": 100,
        "tools": [{"name": "ToolSearch", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "find a tool"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "tool_reference", "tool_name": "Read"}],
                    }
                ],
            },
        ],
    }
    raw = post(kimi_emulator, "/coding/v1/messages", "sk-kimi-test", body)
    assert raw.status_code == 400  # docs/kimi.md §F2.11: Kimi Code refuses the block as sent
    assert parse_error(raw.status_code, raw.content, raw.headers).kind == "invalid_request"
    request = parse_request(body)
    assert [d.code for d in request.diagnostics] == ["flattened_block"]
    assert (
        post(
            kimi_emulator, "/coding/v1/messages", "sk-kimi-test", render_request(request)
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("path", "model", "key", "kind", "upstream_type"),
    [
        # docs/kimi.md §14: the platform route answers 401 in the OpenAI shape.
        ("/anthropic/v1/messages", "kimi-k2.5", "bad", "authentication", None),
        (
            "/anthropic/v1/messages",
            "no-such-model",
            "sk-test-platform",
            "not_found",
            "not_found_error",
        ),
        ("/coding/v1/messages", "no-such-model", "sk-kimi-test", "not_found", "not_found_error"),
    ],
)
def test_emulator_errors_parse_to_their_kind(
    kimi_emulator: EmulatorServer,
    path: str,
    model: str,
    key: str,
    kind: str,
    upstream_type: str | None,
) -> None:
    request = Request(model=model, max_tokens=10, messages=(Message("user", (TextPart("hi"),)),))
    reply = post(kimi_emulator, path, key, render_request(request))
    error = parse_error(reply.status_code, reply.content, reply.headers)
    assert (error.kind, error.status) == (kind, reply.status_code)
    if upstream_type is not None:
        assert error.upstream_type == upstream_type


@pytest.mark.parametrize(("path", "model", "key"), FACES)
def test_unsigned_thinking_replays_without_a_signature_key(
    kimi_emulator: EmulatorServer, path: str, model: str, key: str
) -> None:
    # Reasoning that came from an OpenAI-dialect history has no signature (docs/kimi.md §13.3).
    request = Request(
        model=model,
        max_tokens=100,
        messages=(
            Message("user", (TextPart("hi"),)),
            Message("assistant", (ThinkingPart("earlier reasoning"), TextPart("hello"))),
            Message("user", (TextPart("@@text:again@@"),)),
        ),
    )
    body = render_request(request)
    assert body["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "earlier reasoning",
    }
    reply = post(kimi_emulator, path, key, body)
    assert reply.status_code == 200, reply.text
    assert parse_response(reply.json()).parts[-1] == TextPart("again")


CLIENTS = Path(__file__).parents[2] / "fixtures" / "clients"
# The Anthropic-dialect captures among the client requests in tests/fixtures/clients/.
CAPTURES = sorted(
    path
    for client in ("claude_code", "openclaw_anthropic")
    for path in CLIENTS.glob(f"{client}_*_request.json")
)
# What the emulator's script answers each capture with: its default reply, the echo of the
# tool result it was given, or a call of the tool the prompt asked for.
LAST_PART = {
    "claude_code_text_request": ("end_turn", DEFAULT_REPLY),
    "claude_code_tool_call_request": ("end_turn", DEFAULT_REPLY),
    "claude_code_tool_result_request": ("end_turn", TOOL_RESULT_PREFIX + "cc-accept-2647410650"),
    "openclaw_anthropic_tool_call_request": ("tool_use", "call exec"),
    "openclaw_anthropic_tool_result_request": ("end_turn", TOOL_RESULT_PREFIX + "oc-proof-123"),
}


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
@pytest.mark.parametrize(("path", "model", "key"), FACES)
def test_every_captured_client_request_is_accepted_after_translation(
    kimi_emulator: EmulatorServer, capture: Path, path: str, model: str, key: str
) -> None:
    body = orjson.loads(capture.read_bytes())["body"] | {"model": model}
    answer = stream(kimi_emulator, path, key, render_request(parse_request(body)))
    last = answer.parts[-1]
    said = f"call {last.name}" if isinstance(last, ToolCallPart) else getattr(last, "text", last)
    assert (answer.stop_reason, said) == LAST_PART[capture.stem]
