"""Stop sequences beyond Kimi's limits (5 entries of ≤ 32 bytes) still stop the output where the
client asked: Kimi gets what it accepts, the gateway watches for the rest, cuts at the first
match and closes the upstream; the official SDKs read the reply as their API promises."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from gateway_server import GatewayServer
from openai.types.chat import ChatCompletionMessageParam

SCRIPT = "Write @@text:alpha beta GAMMA-IS-A-VERY-LONG-STOP-SEQUENCE-INDEED delta@@"
LONG = "GAMMA-IS-A-VERY-LONG-STOP-SEQUENCE-INDEED"  # 41 bytes: more than Kimi takes
SEVENTH = "beta"
SIX_SHORT = ["s1", "s2", "s3", "s4", "s5", SEVENTH]


def _sent_stop(gateway: GatewayServer) -> Any:
    body = gateway.emulator.requests()[-1]["body"]
    return body.get("stop", body.get("stop_sequences"))


@pytest.mark.parametrize("stream", [False, True])
def test_openai_stop_list_longer_than_kimi_takes(gateway: GatewayServer, stream: bool) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    ask = [{"role": "user", "content": SCRIPT}]
    kwargs: dict[str, Any] = {"model": "kimi-k2.6", "messages": ask, "stop": SIX_SHORT}
    if stream:
        chunks = list(client.chat.completions.create(**kwargs, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    else:
        reply = client.chat.completions.create(**kwargs)
        text, finish = reply.choices[0].message.content or "", reply.choices[0].finish_reason
    assert (text, finish) == ("alpha ", "stop")
    assert _sent_stop(gateway) == ["s1", "s2", "s3", "s4", "s5"]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_long_stop_sequence_is_reported(gateway: GatewayServer, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key="k", max_retries=0)
    kwargs: dict[str, Any] = {
        "model": "kimi-k2.6",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": SCRIPT}],
        "stop_sequences": ["nowhere", LONG],
    }
    if stream:
        with client.messages.stream(**kwargs) as events:
            reply = events.get_final_message()
    else:
        reply = client.messages.create(**kwargs)
    texts = [b.text for b in reply.content if b.type == "text"]
    assert (texts, reply.stop_reason, reply.stop_sequence) == (
        ["alpha beta "],
        "stop_sequence",
        LONG,
    )
    assert _sent_stop(gateway) == ["nowhere"]


def test_the_upstream_is_closed_at_the_cut(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 30}])
    gateway = gateway_factory(emulator=emulator)
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    ask: list[ChatCompletionMessageParam] = [{"role": "user", "content": SCRIPT}]
    chunks = list(
        client.chat.completions.create(model="kimi-k2.6", messages=ask, stop=SIX_SHORT, stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "alpha "
    [line] = gateway.access_log(wait_for=1)
    assert line["status"] == 200
    assert "error" not in line
    assert any(d.startswith("stop_enforced") for d in line["diagnostics"])
    assert emulator.requests()[-1].get("cancelled") is True
