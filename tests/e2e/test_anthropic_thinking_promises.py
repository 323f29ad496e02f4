"""Issue 9 items 5 and 7 through the gateway with the official anthropic SDK, on both of Kimi's
Anthropic faces (the Open Platform route and Kimi Code, natively) and on the Open Platform's
OpenAI face by translation (``anthropic_route: translate``).

- A client that did not ask for thinking gets no thinking blocks (stream block indexes from 0,
  contiguous); ``quirks.show_unrequested_thinking`` shows Kimi's.
- Its next turn, which carries no thinking, works against the emulator's
  ``anthropic.require_replayed_thinking`` rule (docs/kimi.md §18.7).
- A history with Claude-signed thinking and ``redacted_thinking`` (a model switch inside Claude
  Code) never gets a 400; Kimi's own signed blocks still go back byte for byte.
"""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from kimi_gateway.emulator.config import AnthropicSwitches, EmulatorConfig

ROUTES: dict[str, dict[str, str]] = {
    "via-platform-anthropic": {"upstream": "platform_anthropic", "model": "kimi-k2.6"},
    "via-code-anthropic": {"upstream": "code_anthropic", "model": "kimi-for-coding"},
    "via-platform": {"upstream": "platform", "model": "kimi-k2.6"},
    "k3-anthropic": {"upstream": "platform_anthropic", "model": "kimi-k3"},
}
FACES = ["via-platform-anthropic", "via-code-anthropic", "via-platform"]
TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]
CALL = 'Weather in Paris? @@think:Need the tool@@ @@tool:get_weather {"city":"Paris"}@@'
# What Claude's API returns (an opaque base64 signature Kimi cannot verify).
CLAUDE_SIGNATURE = "EqQBCkgIBRABGAIiQNw0Yq7Zr4Vf0mH2mXw3oQ1tJ0lC9y2rGQk8QhKcV1yT0pB2mZx=="


def _client(gateway: Any) -> Any:
    """The SDK's client, typed loosely: the tests send raw block dicts and read blocks by type."""
    return anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)


def _require_replayed_thinking(emulator: Any) -> None:
    switches = AnthropicSwitches(require_replayed_thinking=True)
    emulator.reconfigure(EmulatorConfig(anthropic=switches))


def _blocks(client: Any, stream: bool, **kwargs: Any) -> tuple[Any, list[int]]:
    """The reply message and, streamed, the indexes of its content_block_start events."""
    if not stream:
        return client.messages.create(**kwargs), []
    starts: list[int] = []
    with client.messages.stream(**kwargs) as events:
        for event in events:
            if event.type == "content_block_start":
                starts.append(event.index)
        return events.get_final_message(), starts


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", FACES)
def test_unrequested_thinking_is_not_shown(
    gateway_pool: Any, kimi_emulator: Any, alias: str, stream: bool
) -> None:
    client = _client(gateway_pool.get(routes=ROUTES))
    message, starts = _blocks(
        client,
        stream,
        model=alias,
        max_tokens=2000,
        tools=TOOLS,
        messages=[{"role": "user", "content": "Hi @@think:secret plan@@ @@text:Hello@@ " + CALL}],
    )
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert (message.content[0].text, message.stop_reason) == ("Hello", "tool_use")
    assert starts == ([0, 1] if stream else [])


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_disabled_thinking_on_a_model_that_always_thinks(
    gateway_pool: Any, kimi_emulator: Any, stream: bool
) -> None:
    client = _client(gateway_pool.get(routes=ROUTES))
    message, starts = _blocks(
        client,
        stream,
        model="k3-anthropic",
        max_tokens=2000,
        thinking={"type": "disabled"},
        messages=[{"role": "user", "content": "@@think:hidden@@ @@text:Plain@@"}],
    )
    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [("text", "Plain")]
    assert starts == ([0] if stream else [])


def test_setting_shows_kimis_thinking(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(routes=ROUTES, quirks={"show_unrequested_thinking": True})
    message = _client(gateway).messages.create(
        model="via-platform-anthropic",
        max_tokens=2000,
        messages=[{"role": "user", "content": "@@think:visible@@ @@text:Hello@@"}],
    )
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "visible"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", FACES)
def test_next_turn_without_thinking_works(
    gateway_pool: Any, kimi_emulator: Any, alias: str, stream: bool
) -> None:
    """Thinking stays on at Kimi (the model's default); the client never saw it, so its replay
    lacks it, which the emulator's rule refuses unless the gateway fills the turn in."""
    _require_replayed_thinking(kimi_emulator)
    client = _client(gateway_pool.get(routes=ROUTES))
    common: dict[str, Any] = {"model": alias, "max_tokens": 2000, "tools": TOOLS}
    messages: list[dict[str, Any]] = [{"role": "user", "content": CALL}]
    call, _ = _blocks(client, stream, messages=messages, **common)
    assert [block.type for block in call.content] == ["tool_use"]
    result = {"type": "tool_result", "tool_use_id": call.content[0].id, "content": "18C sunny"}
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in call.content]},
        {"role": "user", "content": [result]},
    ]
    answer, _ = _blocks(client, stream, messages=messages, **common)
    assert [(b.type, getattr(b, "text", None)) for b in answer.content] == [
        ("text", "TOOL_RESULT_SEEN: 18C sunny")
    ]


def _switched_history(tool_id: str) -> list[dict[str, Any]]:
    """A conversation begun on Claude: its signed thinking, a redacted block, a tool call."""
    return [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": CLAUDE_SIGNATURE},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "tool_use", "id": tool_id, "name": "get_weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": "18C"}],
        },
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("alias", FACES)
def test_claude_signed_thinking_in_history(
    gateway_pool: Any, kimi_emulator: Any, alias: str, stream: bool
) -> None:
    _require_replayed_thinking(kimi_emulator)
    client = _client(gateway_pool.get(routes=ROUTES))
    answer, _ = _blocks(
        client,
        stream,
        model=alias,
        max_tokens=2000,
        tools=TOOLS,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=_switched_history("toolu_01A09q90qw90lq917835lq9"),
    )
    assert answer.content[-1].type == "text"
    assert answer.content[-1].text == "TOOL_RESULT_SEEN: 18C"


def test_kimis_own_signature_goes_back_unchanged(gateway_pool: Any, kimi_emulator: Any) -> None:
    client = _client(gateway_pool.get(routes=ROUTES))
    common: dict[str, Any] = {
        "model": "via-code-anthropic",
        "max_tokens": 2000,
        "tools": TOOLS,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    messages: list[dict[str, Any]] = [{"role": "user", "content": CALL}]
    call = client.messages.create(messages=messages, **common)
    thinking = call.content[0]
    assert (thinking.type, bool(thinking.signature)) == ("thinking", True)
    result = {"type": "tool_result", "tool_use_id": call.content[1].id, "content": "18C"}
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in call.content]},
        {"role": "user", "content": [result]},
    ]
    client.messages.create(messages=messages, **common)
    sent = kimi_emulator.requests()[-1]["body"]["messages"][1]["content"][0]
    assert sent == {
        "type": "thinking",
        "thinking": "Need the tool",
        "signature": thinking.signature,
    }
