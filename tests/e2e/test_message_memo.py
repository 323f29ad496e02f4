"""The memos through the real server (issue 15 item 3): a Claude-Code-like session (Anthropic
SDK, tool rounds) sent turn by turn to a gateway with the message and tool-schema memos (the
default) and to one without them (``message_memo_bytes: 0``, ``quirks.schema_memo_bytes: 0``)
reaches Kimi as the same bodies and answers the same, while the first gateway looks the resent
messages up."""

from __future__ import annotations

from typing import Any

import anthropic

from conftest import GatewayFactory
from kimi_gateway.emulator.server import EmulatorServer


def _turns() -> list[list[dict[str, Any]]]:
    """Each turn's messages: the last turn's, then one tool round, as an agent resends them."""
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "list the files, then read them"}]}
    ]
    turns = [list(messages)]
    for i in range(3):
        call = {"type": "tool_use", "id": f"toolu_{i:04d}", "name": "Bash", "input": {"i": i}}
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i:04d}", "content": f"out {i}"}
        messages += [
            {"role": "assistant", "content": [{"type": "text", "text": f"step {i}"}, call]},
            {"role": "user", "content": [result]},
        ]
        turns.append(list(messages))
    return turns


def _send(url: str, messages: list[dict[str, Any]], emulator: EmulatorServer) -> tuple[Any, Any]:
    client = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0)
    reply = client.messages.create(
        model="kimi-k2.6",
        max_tokens=64,
        system="You are a coding agent.",
        tools=[{"name": "Bash", "description": "run", "input_schema": {"type": "object"}}],
        messages=messages,  # type: ignore[arg-type]
    )
    return emulator.state.requests()[-1]["body"], [b.model_dump() for b in reply.content]


def test_a_session_reaches_kimi_the_same_with_and_without_the_memo(
    gateway_factory: GatewayFactory, kimi_emulator: EmulatorServer
) -> None:
    with_memo = gateway_factory(anthropic_route="translate")
    without = gateway_factory(
        anthropic_route="translate", message_memo_bytes=0, quirks={"schema_memo_bytes": 0}
    )
    for messages in _turns():
        assert _send(with_memo.url, messages, kimi_emulator) == _send(
            without.url, messages, kimi_emulator
        )
    assert without.app.runtime is not None
    assert without.app.runtime.message_memo is None
    assert with_memo.app.runtime is not None
    memo = with_memo.app.runtime.message_memo
    assert memo is not None
    # Turns of 1, 3, 5 and 7 messages: 7 new ones parsed, the 9 resent ones looked up; and
    # the same tools list each turn: parsed once, looked up three times.
    assert (memo.hits, memo.misses) == (9 + 3, 7 + 1)
