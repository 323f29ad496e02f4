"""/v1/responses on every surface the route can take: the Open Platform's OpenAI face (the
default), its Anthropic route, and Kimi Code's two faces (by routes). On each, a streamed text
turn, and a stateless tool round trip whose sealed reasoning (with the Anthropic faces'
signatures) reaches Kimi again exactly."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from gateway_server import GatewayServer
from test_responses import EXEC, REASONING

from kimi_gateway.emulator.server import EmulatorServer

SURFACES = {
    "platform": ("kimi-k2.6", "/v1/chat/completions"),
    "platform_anthropic": ("kimi-k2.6", "/anthropic/v1/messages"),
    "code_openai": ("kimi-for-coding", "/coding/v1/chat/completions"),
    "code_anthropic": ("kimi-for-coding", "/coding/v1/messages"),
}
ROUTES = {
    f"via-{name}": {"upstream": name, "model": model} for name, (model, _) in SURFACES.items()
}


@pytest.fixture
def routed(gateway_pool: Any, kimi_emulator: EmulatorServer) -> GatewayServer:
    return gateway_pool.get(routes=ROUTES)  # type: ignore[no-any-return]


def sent(emulator: EmulatorServer, path: str) -> list[dict[str, Any]]:
    return [r["body"] for r in emulator.requests() if r["path"] == path]


def _assistant_reasoning(body: dict[str, Any]) -> tuple[str, str | None]:
    """The reasoning (and signature) of the first assistant turn Kimi was sent, either wire."""
    message = next(m for m in body["messages"] if m["role"] == "assistant")
    if "reasoning_content" in message:
        return message["reasoning_content"], None
    block = next(b for b in message["content"] if b["type"] == "thinking")
    return block["thinking"], block.get("signature")


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_text_and_a_stateless_tool_round_trip(
    routed: GatewayServer, kimi_emulator: EmulatorServer, surface: str
) -> None:
    sdk = openai.OpenAI(base_url=routed.openai_url, api_key="x", max_retries=0)
    model, path = f"via-{surface}", SURFACES[surface][1]
    with sdk.responses.stream(model=model, input="@@text:Hello@@") as stream:
        text = stream.get_final_response()
    assert (text.output_text, text.model) == ("Hello", model)
    assert len(sent(kimi_emulator, path)) == 1
    first = sdk.responses.create(
        model=model,
        tools=[EXEC],
        input='@@tool:exec_command {"cmd":"ls"}@@',
        store=False,
        include=["reasoning.encrypted_content"],
    )
    items: list[Any] = [item.model_dump(exclude_none=True) for item in first.output]
    assert [item["type"] for item in items] == ["reasoning", "function_call"]
    call_id = items[-1]["call_id"]
    output = {"type": "function_call_output", "call_id": call_id, "output": "a.txt"}
    resent: list[Any] = [*items, output]
    second = sdk.responses.create(model=model, tools=[EXEC], input=resent, store=False)
    assert second.output_text == "TOOL_RESULT_SEEN: a.txt"
    reasoning, signature = _assistant_reasoning(sent(kimi_emulator, path)[-1])
    assert reasoning == REASONING
    if surface.endswith("anthropic"):
        assert signature  # Kimi's signature came back byte for byte, from the sealed token
