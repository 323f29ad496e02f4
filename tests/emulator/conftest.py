"""Clients for the emulator tests: the official openai SDK and raw httpx,
all pointed at the session emulator (`kimi_emulator`, reset before each test)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam

from kimi_gateway.emulator.server import EmulatorServer

PLATFORM_KEY = "sk-test-platform"
KIMI_CODE_KEY = "sk-kimi-test"
# Names Kimi Code accepts, all reported back as kimi-for-coding on both faces (docs/kimi.md §13.1:
# [O] HC for the first two, [3M] for k3/k3-256k, [3C] for the reported name).
KIMI_CODE_MODEL_NAMES = (
    "kimi-for-coding",
    "kimi-for-coding-highspeed",
    "k3",
    "k3-256k",
    "kimi-k2.7",
    "k2.7",
    "kimi-k2.5",
)

# Typed as the openai SDK's params so SDK calls check; a TypedDict is a plain dict on the wire.
HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
def client(kimi_emulator: EmulatorServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=kimi_emulator.platform_url, api_key=PLATFORM_KEY, max_retries=0)


@pytest.fixture
def code_client(kimi_emulator: EmulatorServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=kimi_emulator.kimi_code_url, api_key=KIMI_CODE_KEY, max_retries=0)


@pytest.fixture
def raw(kimi_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {PLATFORM_KEY}"}
    with httpx.Client(base_url=kimi_emulator.url, headers=headers, timeout=10) as made:
        yield made


def drain(raw: httpx.Client, path: str, body: object, sink: list[bytes]) -> None:
    """Stream a POST into `sink` (so a test can see what arrived before a cut)."""
    with raw.stream("POST", path, json=body) as response:
        sink.extend(response.iter_bytes())


def consume(stream: Iterable[Any], sink: list[Any]) -> None:
    """Read an SDK stream into `sink`, chunk by chunk."""
    for chunk in stream:
        sink.append(chunk)
