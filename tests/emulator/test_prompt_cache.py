"""Kimi's cache matches on the rendered prompt per key (docs/kimi.md §12; prompt_cache.py): what a
template reads (tool-call ids, argument bytes, schema key order) breaks the prefix, what it does
not read (key order of a message object, `cache_control`) does not, and keys do not share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kimi_gateway.emulator.prompt_cache import common_prefix_length
from kimi_gateway.emulator.server import EmulatorServer

from .conftest import PLATFORM_KEY, WEATHER_TOOL
from .test_anthropic_support import BASH_TOOL, PLATFORM, post

SYSTEM = {"role": "system", "content": "You are a careful assistant. " * 40}


def _history(call_id: str, arguments: str = '{"city":"Paris"}') -> list[dict[str, Any]]:
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }
    return [
        SYSTEM,
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny " * 50},
    ]


def _chat(server: EmulatorServer, messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    key = extra.pop("key", PLATFORM_KEY)
    body = {"model": "kimi-k2-0905-preview", "messages": messages, "tools": [WEATHER_TOOL], **extra}
    headers = {"authorization": f"Bearer {key}"}
    reply = httpx.post(server.platform_url + "/chat/completions", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    usage: dict[str, Any] = reply.json()["usage"]
    return usage


def _system_only_cached(server: EmulatorServer) -> int:
    """Cached tokens when only the head and the system prompt are shared (a baseline)."""
    _chat(server, [SYSTEM, {"role": "user", "content": "a"}])
    return int(_chat(server, [SYSTEM, {"role": "user", "content": "b"}])["cached_tokens"])


def test_what_the_template_reads_breaks_the_prefix(kimi_emulator: EmulatorServer) -> None:
    """A re-minted tool-call id, re-spaced arguments, a reordered schema: the old cache
    compared message texts only, so none of them cost anything."""
    baseline = _system_only_cached(kimi_emulator)
    kimi_emulator.state.reset()
    _chat(kimi_emulator, _history("get_weather:0"))
    renamed = _chat(kimi_emulator, _history("get_weather:7"))
    assert baseline < renamed["cached_tokens"] < renamed["prompt_tokens"] - 50
    spaced = _chat(kimi_emulator, _history("get_weather:0", '{"city": "Paris"}'))
    assert spaced["cached_tokens"] < spaced["prompt_tokens"] - 50
    function: dict[str, Any] = dict(WEATHER_TOOL["function"])
    function["parameters"] = dict(reversed(list(WEATHER_TOOL["function"]["parameters"].items())))
    tool = {"type": "function", "function": function}
    moved = _chat(kimi_emulator, _history("get_weather:0"), tools=[tool])
    assert moved["cached_tokens"] < moved["prompt_tokens"] // 10


def test_key_order_is_free_and_keys_do_not_share(kimi_emulator: EmulatorServer) -> None:
    first = _history("get_weather:0")
    _chat(kimi_emulator, first)
    other = _chat(kimi_emulator, first, key="sk-test-other")
    assert other["cached_tokens"] == 0
    reordered = [dict(reversed(list(m.items()))) for m in first]
    again = _chat(kimi_emulator, reordered)
    assert again["cached_tokens"] == again["prompt_tokens"]
    assert again["prompt_tokens_details"] == {"cached_tokens": again["prompt_tokens"]}


def test_moved_cache_control_keeps_the_prefix_of_its_key(kimi_emulator: EmulatorServer) -> None:
    """Claude Code moves its cache_control marker to the newest message every turn."""
    marked = {"type": "ephemeral"}
    turn = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "hello " * 60, "cache_control": marked}],
        }
    ]
    body = {"model": "kimi-k2.6", "max_tokens": 100, "tools": [BASH_TOOL], "messages": turn}
    assert post(kimi_emulator, PLATFORM, body).status_code == 200
    unmarked = {
        **body,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello " * 60}]}],
    }
    elsewhere = post(kimi_emulator, PLATFORM, unmarked, key="sk-test-other").json()["usage"]
    assert elsewhere["cache_read_input_tokens"] == 0
    usage = post(kimi_emulator, PLATFORM, unmarked).json()["usage"]
    assert (usage["input_tokens"], usage["cache_read_input_tokens"] > 0) == (0, True)


def test_cached_tokens_are_rounded_down_to_the_block(
    kimi_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    server = kimi_emulator_factory(prefix_cache={"block_tokens": 64})
    _chat(server, _history("get_weather:0"))
    renamed = _chat(server, _history("get_weather:7"))
    assert renamed["cached_tokens"] % 64 == 0
    assert 0 < renamed["cached_tokens"] < renamed["prompt_tokens"]


@pytest.mark.parametrize(
    ("a", "b", "length"),
    [("", "", 0), ("abc", "abc", 3), ("abcd", "abxd", 2), ("ab", "abc", 2), ("x", "y", 0)],
)
def test_common_prefix_length(a: str, b: str, length: int) -> None:
    assert common_prefix_length(a, b) == length


def test_client_cache_keys_split_the_cache(
    kimi_emulator: EmulatorServer, kimi_emulator_factory: Callable[..., EmulatorServer]
) -> None:
    """§5.1/§12: prompt_cache_key routes to a cache; another key's history is not found."""
    _chat(kimi_emulator, _history("get_weather:0"), prompt_cache_key="session-a")
    other = _chat(kimi_emulator, _history("get_weather:0"), prompt_cache_key="session-b")
    same = _chat(kimi_emulator, _history("get_weather:0"), prompt_cache_key="session-a")
    assert (other["cached_tokens"], same["cached_tokens"]) == (0, same["prompt_tokens"])
    unsplit = kimi_emulator_factory(prefix_cache={"split_by_cache_key": False})
    _chat(unsplit, _history("get_weather:0"), prompt_cache_key="session-a")
    shared = _chat(unsplit, _history("get_weather:0"), prompt_cache_key="session-b")
    assert shared["cached_tokens"] == shared["prompt_tokens"]
