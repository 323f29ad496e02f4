"""max_tokens above what the model can take (issue 9 item 8) is lowered to the model's room (its
context minus the prompt, docs/kimi.md §2.2, §4.1) on every surface, with a diagnostic, instead
of Kimi's 400 "exceeded model token limit". Driven with the official SDKs through the gateway
to the emulator, whose context check is Kimi's."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from gateway_server import GatewayServer

ASK = "@@text:fits@@"
ROUTES = {
    "small-platform": {"upstream": "platform", "model": "moonshot-v1-8k"},
    "small-platform-anthropic": {"upstream": "platform_anthropic", "model": "moonshot-v1-8k"},
    "code-openai": {"upstream": "code_openai", "model": "kimi-for-coding"},
    "code-anthropic": {"upstream": "code_anthropic", "model": "kimi-for-coding"},
}
# What each surface may take: moonshot-v1-8k's 8192 tokens, Kimi Code's 262,144 (§4.1, §13).
ASKED = {"small-platform": 32000, "small-platform-anthropic": 32000}
ASKED_CODE = 300_000


@pytest.fixture
def routed(gateway_pool: Any, kimi_emulator: Any) -> GatewayServer:
    gateway: GatewayServer = gateway_pool.get(routes=ROUTES)
    return gateway


def _sent(gateway: GatewayServer) -> tuple[str, int]:
    [upstream] = gateway.emulator.requests()
    body = upstream["body"]
    return upstream["path"], body.get("max_completion_tokens", body.get("max_tokens"))


def _context(route: str) -> int:
    return 8192 if route.startswith("small") else 262144


@pytest.mark.parametrize(
    ("route", "path"),
    [("small-platform", "/v1/chat/completions"), ("code-openai", "/coding/v1/chat/completions")],
)
def test_openai_chat_max_tokens_fits_the_model(
    routed: GatewayServer, route: str, path: str
) -> None:
    client = openai.OpenAI(base_url=routed.openai_url, api_key="k", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model=route,
        messages=[{"role": "user", "content": ASK}],
        max_tokens=ASKED.get(route, ASKED_CODE),
    )
    assert raw.parse().choices[0].message.content == "fits"
    sent_path, sent = _sent(routed)
    assert sent_path == path
    assert 1024 <= sent < _context(route) - 10
    diagnostics = raw.headers["x-kimi-gateway-diagnostics"]
    assert f"sent as {sent}: the model's room for output" in diagnostics


@pytest.mark.parametrize(
    ("route", "path"),
    [
        ("small-platform-anthropic", "/anthropic/v1/messages"),
        ("code-anthropic", "/coding/v1/messages"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_messages_max_tokens_fits_the_model(
    routed: GatewayServer, route: str, path: str, stream: bool
) -> None:
    client = anthropic.Anthropic(base_url=routed.url, api_key="k", max_retries=0)
    kwargs: dict[str, Any] = {
        "model": route,
        "max_tokens": ASKED.get(route, ASKED_CODE),
        "messages": [{"role": "user", "content": ASK}],
    }
    # An explicit timeout: without one the SDK insists on a stream for a large max_tokens.
    raw: Any = client.messages.with_raw_response.create(**kwargs, stream=stream, timeout=30)
    if stream:
        events = list(raw.parse())
        deltas = [e.delta for e in events if e.type == "content_block_delta"]
        text = "".join(d.text for d in deltas if d.type == "text_delta")
    else:
        text = "".join(b.text for b in raw.parse().content if b.type == "text")
    assert text == "fits"
    sent_path, sent = _sent(routed)
    assert sent_path == path
    assert 1024 <= sent < _context(route) - 10
    diagnostics = raw.headers["x-kimi-gateway-diagnostics"]
    assert f"sent as {sent}: the model's room for output" in diagnostics


def test_responses_max_output_tokens_fits_the_model(routed: GatewayServer) -> None:
    client = openai.OpenAI(base_url=routed.openai_url, api_key="k", max_retries=0)
    reply = client.responses.create(
        model="small-platform", input=ASK, max_output_tokens=32000, store=False
    )
    assert reply.output_text == "fits"
    sent_path, sent = _sent(routed)
    assert sent_path == "/v1/chat/completions"
    assert 1024 <= sent < 8192 - 10
