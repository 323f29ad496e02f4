"""Valid client input never meets the emulator's response_format and range checks (issue 9
item 13): the gateway sends Kimi what it takes, and says what it changed. With the openai SDK
through the gateway to the emulator (docs/kimi.md §4.2, §5.1, §8.6)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from gateway_server import GatewayServer

# Valid JSON Schema an OpenAI client may send, but not MFJS: an enum without a type (§8.6).
SCHEMA = {
    "type": "object",
    "properties": {"unit": {"enum": ["c", "f"]}, "city": {"type": "string"}},
    "required": ["unit", "city"],
    "additionalProperties": False,
}
ASK = [{"role": "user", "content": '@@text:{"unit":"c","city":"Oslo"}@@'}]


@pytest.mark.parametrize("strict", [True, None])
def test_a_json_schema_kimi_would_refuse_is_sent_as_mfjs(
    gateway: GatewayServer, strict: bool | None
) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    spec: dict[str, Any] = {"name": "weather", "schema": SCHEMA}
    if strict is not None:
        spec["strict"] = strict
    create: Any = client.chat.completions.create  # the dicts below are the wire's
    reply = create(
        model="kimi-k2.6",
        messages=ASK,
        response_format={"type": "json_schema", "json_schema": spec},
    )
    assert reply.choices[0].message.content == '{"unit":"c","city":"Oslo"}'
    sent = gateway.emulator.requests()[-1]["body"]["response_format"]["json_schema"]["schema"]
    assert sent["properties"]["unit"] == {"enum": ["c", "f"], "type": "string"}


def test_json_object_passes(gateway: GatewayServer) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    create: Any = client.chat.completions.create
    reply = create(model="moonshot-v1-8k", messages=ASK, response_format={"type": "json_object"})
    assert reply.choices[0].message.content == '{"unit":"c","city":"Oslo"}'
    assert gateway.emulator.requests()[-1]["body"]["response_format"] == {"type": "json_object"}


EDGES = {"top_p": 0.0, "presence_penalty": -2.0, "frequency_penalty": 2.0}


@pytest.mark.parametrize(
    ("model", "sent"),
    [
        ("moonshot-v1-8k", EDGES),  # ranged: the edges are Kimi's too
        ("kimi-k2.6", {}),  # fixed values (§4.2): left out, with diagnostics
        ("kimi-k3", {}),  # no sampling fields at all
        ("kimi-for-coding", {}),  # Kimi Code: sampling undocumented, left out
    ],
)
def test_openai_ranges_never_become_kimi_400s(
    gateway: GatewayServer, model: str, sent: dict[str, float]
) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    create: Any = client.chat.completions.with_raw_response.create
    raw = create(model=model, messages=[{"role": "user", "content": "@@text:ok@@"}], **EDGES)
    assert raw.parse().choices[0].message.content == "ok"
    body = gateway.emulator.requests()[-1]["body"]
    assert {k: body[k] for k in EDGES if k in body} == sent
    if not sent:
        assert "omitted_param" in raw.headers["x-kimi-gateway-diagnostics"]
