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

SYSTEM = "You are a coding agent."


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


def _send(
    url: str, messages: list[dict[str, Any]], emulator: EmulatorServer, system: str = SYSTEM
) -> tuple[Any, Any]:
    client = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0)
    reply = client.messages.create(
        model="kimi-k2.6",
        max_tokens=64,
        system=system,
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
    # Turns of 1, 3, 5 and 7 messages: 7 new ones parsed; the same tools list each turn,
    # parsed once and looked up three times. Resent messages are looked up one by one (1 on
    # turn 2, 3 on turn 3) until a history is kept (from turn 3, its first 4 messages: looked
    # up once as a whole on turn 4, which then looks up message 5 only).
    history = (1, 1)  # a miss on turn 3 (none kept yet), a hit on turn 4
    assert (memo.hits, memo.misses) == (1 + 3 + 1 + 3 + history[1], 7 + 1 + history[0])


def test_a_large_session_reaches_kimi_the_same_with_its_messages_kept_as_bytes(
    gateway_factory: GatewayFactory, kimi_emulator: EmulatorServer
) -> None:
    """Bodies of 16 KiB and more are split, their messages matched on their bytes
    (dialects/raw_messages.py): the same bodies reach Kimi, and the history is found."""
    with_memo = gateway_factory(anthropic_route="translate")
    without = gateway_factory(anthropic_route="translate", message_memo_bytes=0)
    system = SYSTEM + " Be careful." * 2000
    for messages in _turns():
        sent = _send(with_memo.url, messages, kimi_emulator, system)
        assert sent == _send(without.url, messages, kimi_emulator, system)
    assert with_memo.app.runtime is not None
    memo = with_memo.app.runtime.message_memo
    assert memo is not None
    assert memo.hits == 1 + 3 + 1 + 3 + 1  # as above: the history found on turn 4
    kept = [key for key in memo._entries if b"/raw-history:" in key]  # matched as bytes
    assert len(kept) == 1
