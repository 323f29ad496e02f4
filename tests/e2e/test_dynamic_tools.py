"""K3's dynamic-tool system message (issue 9 item 11): a system message with ``tools`` and no
content (docs/kimi.md §5.1, OAS ``KimiK3DynamicToolMessage``) is accepted from an OpenAI client
and reaches K3 on the platform's OpenAI face as sent; where the model or face takes none, its
tools are declared with the request's (recorded). Through the gateway with the openai SDK."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from gateway_server import GatewayServer

LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a word up",
        "parameters": {
            "type": "object",
            "properties": {"word": {"type": "string"}},
            "required": ["word"],
        },
    },
}
CALL = '@@tool:lookup {"word":"kimi"}@@'


def _messages() -> list[Any]:
    return [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
        {"role": "system", "tools": [LOOKUP]},
        {"role": "user", "content": CALL},
    ]


def _ask(gateway: GatewayServer, model: str, stream: bool) -> tuple[Any, list[str]]:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    raw: Any = client.chat.completions.with_raw_response.create(
        model=model, messages=_messages(), stream=stream
    )
    if stream:
        chunks = list(raw.parse())
        calls = [
            c.function.name
            for chunk in chunks
            if chunk.choices
            for c in chunk.choices[0].delta.tool_calls or []
            if c.function and c.function.name
        ]
    else:
        calls = [c.function.name for c in raw.parse().choices[0].message.tool_calls or []]
    return raw, calls


@pytest.mark.parametrize("stream", [False, True])
def test_k3_gets_the_dynamic_tool_message_as_sent(gateway: GatewayServer, stream: bool) -> None:
    _, calls = _ask(gateway, "kimi-k3", stream)
    assert calls == ["lookup"]
    [upstream] = gateway.emulator.requests()
    sent = upstream["body"]
    assert sent["messages"][3] == {"role": "system", "tools": [LOOKUP]}
    assert "tools" not in sent


def test_other_models_get_the_dynamic_tools_declared_up_front(gateway: GatewayServer) -> None:
    raw, calls = _ask(gateway, "kimi-k2.6", False)
    assert calls == ["lookup"]
    [upstream] = gateway.emulator.requests()
    sent = upstream["body"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert [t["function"]["name"] for t in sent["tools"]] == ["lookup"]
    assert "hoisted_dynamic_tools" in raw.headers["x-kimi-gateway-diagnostics"]


def test_a_dynamic_tool_message_with_a_bad_tool_names_the_field(gateway: GatewayServer) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    messages: Any = [{"role": "user", "content": "hi"}, {"role": "system", "tools": [{"x": 1}]}]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="kimi-k3", messages=messages)
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict)
    assert caught.value.body.get("param") == "messages[1].tools[0].function"
    assert gateway.emulator.requests() == []
