"""Every quirk against the emulator (issue 3, Tests): the raw request is rejected with Kimi's
message, the request the quirk layer fixed is accepted (cases in emulator_cases.py)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    PLATFORM_GLOBAL,
    KimiSurface,
    QuirkPolicy,
)

from .emulator_calls import Client, Exchange, error_message
from .emulator_cases import DIAGNOSED, MESSAGE_CASES, WEATHER, Case, chat, messages
from .emulator_tool_cases import TOOL_CASES

CASES = [*MESSAGE_CASES, *TOOL_CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_raw_is_rejected_and_fixed_is_accepted(kimi_emulator: EmulatorServer, case: Case) -> None:
    exchange = Exchange(
        kimi_emulator,
        case.surface,
        case.client,
        case.body,
        case.policy,
        rendered_raw=case.rendered_raw,
    )
    assert error_message(exchange.post_raw()) == (400, case.message)
    fixed = exchange.post_fixed()
    assert fixed.status_code == 200, fixed.text
    codes = tuple(d.code for d in exchange.call().diagnostics)
    assert codes == DIAGNOSED.get(case.id, ())


IMAGE_URL = "https://example.com/cat.png"
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5Erk"
    "Jggg=="
)


@pytest.mark.parametrize(
    ("surface", "client", "body"),
    [
        (
            PLATFORM_GLOBAL,
            "openai_chat",
            chat(
                "kimi-k2.6",
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is it?"},
                        {"type": "image_url", "image_url": {"url": IMAGE_URL}},
                    ],
                },
            ),
        ),
        (
            KIMI_CODE_ANTHROPIC,
            "anthropic_messages",
            messages(
                "kimi-for-coding",
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is it?"},
                        {"type": "image", "source": {"type": "url", "url": IMAGE_URL}},
                    ],
                },
            ),
        ),
    ],
    ids=["openai", "anthropic"],
)
def test_http_image_urls_are_refused_before_kimi(
    kimi_emulator: EmulatorServer, surface: KimiSurface, client: Client, body: dict[str, Any]
) -> None:
    exchange = Exchange(kimi_emulator, surface, client, body)
    assert error_message(exchange.post_raw()) == (400, "unsupported image url")
    with pytest.raises(TranslationError) as caught:
        exchange.call()
    assert caught.value.param == "messages[0].content[1].image_url.url"


def test_refusal_policies_stop_before_kimi(kimi_emulator: EmulatorServer) -> None:
    body = chat("kimi-k2.6", tools=[WEATHER], tool_choice="required")
    exchange = Exchange(
        kimi_emulator,
        PLATFORM_GLOBAL,
        "openai_chat",
        body,
        QuirkPolicy(forced_tool_choice="reject"),
    )
    assert error_message(exchange.post_raw()) == (
        400,
        "tool_choice 'required' is incompatible with thinking enabled",
    )
    with pytest.raises(TranslationError) as caught:
        exchange.call()
    assert (caught.value.status, caught.value.param) == (400, "tool_choice")
