"""Conversations longer than the context window, against the emulator (which refuses a request
whose prompt plus max_tokens passes the model's window, as Kimi does): older turns summarised,
tool calls never parted from their results, one prompt_cache_key, the cache-hit ratio."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import Kimi, KimiError
from kimi_gateway.sdk.conversation import SUMMARY_HEAD, SUMMARY_PROMPT

from .conftest import chat_bodies

WINDOW = 8192  # moonshot-v1-8k (docs/kimi.md §4.1), the emulator's too


def long_message(n: int, words: int = 1400) -> str:
    return f"Part {n}:" + " word" * words + f" @@text:noted {n}@@"


def _pairs_intact(messages: list[dict[str, Any]]) -> bool:
    """Every assistant tool call is answered right after it, and every tool message answers
    a call just before it."""
    for i, message in enumerate(messages):
        calls = [c["id"] for c in message.get("tool_calls") or []]
        if calls:
            answered = [m.get("tool_call_id") for m in messages[i + 1 : i + 1 + len(calls)]]
            if answered != calls:
                return False
        if message["role"] == "tool":
            before = messages[:i]
            ids = {c["id"] for m in before for c in m.get("tool_calls") or []}
            if message["tool_call_id"] not in ids:
                return False
    return True


def test_a_conversation_longer_than_the_window_keeps_working_under_the_limit(
    kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    conversation = kimi.conversation(model="moonshot-v1-8k", system="You are a note taker.")
    assert (conversation.window, conversation.budget) == (WINDOW, WINDOW - WINDOW // 4)
    results = [conversation.say(long_message(n)) for n in range(12)]
    assert [r.text for r in results] == [f"noted {n}" for n in range(12)]
    assert sum(len(long_message(n).split()) for n in range(12)) > 2 * WINDOW
    assert conversation.summaries >= 2
    assert all(r.usage.input_total <= conversation.budget for r in results)
    assert all(r["status"] == 200 for r in kimi_emulator.requests())
    bodies = chat_bodies(kimi_emulator)
    turns = [b for b in bodies if b["messages"][0]["content"] != SUMMARY_PROMPT]  # type: ignore[index]
    summaries = [b for b in bodies if b["messages"][0]["content"] == SUMMARY_PROMPT]  # type: ignore[index]
    assert len(turns) == 12
    assert len(summaries) >= conversation.summaries
    assert all(b["max_completion_tokens"] == WINDOW // 4 for b in turns)
    last = turns[-1]["messages"]
    assert isinstance(last, list)
    assert last[0] == {"role": "system", "content": "You are a note taker."}
    assert last[1]["role"] == "system"
    assert str(last[1]["content"]).startswith(SUMMARY_HEAD)
    assert last[-1]["content"] == long_message(11)
    estimates = [r for r in kimi_emulator.requests() if "estimate" in str(r["path"])]
    assert estimates  # Kimi's own count decided when to summarise


def test_tool_calls_and_results_are_never_parted(kimi: Kimi, kimi_emulator: EmulatorServer) -> None:
    def lookup(n: int) -> str:
        """Look a number up."""
        return f"number {n} is fine" + " detail" * 600

    conversation = kimi.conversation(model="moonshot-v1-8k")
    for n in range(8):
        run = conversation.run_tools(
            f'Check {n} @@tool:lookup {{"n": {n}}}@@' + " filler" * 400, tools=[lookup]
        )
        assert run.stopped == "answered"
    assert conversation.summaries >= 1
    for body in chat_bodies(kimi_emulator):
        messages = body["messages"]
        assert isinstance(messages, list)
        assert _pairs_intact(messages)
    assert conversation.history[0]["role"] == "user"
    assert all(r["status"] == 200 for r in kimi_emulator.requests())


def test_one_prompt_cache_key_and_the_cache_hit_ratio(
    kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    conversation = kimi.conversation(model="kimi-k2.6", prompt_cache_key="my-conversation")
    results = [conversation.say(f"Question {n} @@text:answer {n}@@") for n in range(4)]
    keys = {b["prompt_cache_key"] for b in chat_bodies(kimi_emulator)}
    assert keys == {"my-conversation"}
    cached = sum(r.usage.input_cache_read for r in results)
    total = sum(r.usage.input_total for r in results)
    assert cached > 0
    assert conversation.cache_hit_ratio == cached / total
    assert conversation.last_prompt_tokens == results[-1].usage.input_total
    fresh = kimi.conversation()
    assert fresh.prompt_cache_key.startswith("kimi-conversation-")
    assert fresh.prompt_cache_key != kimi.conversation().prompt_cache_key
    assert fresh.cache_hit_ratio == 0.0


def test_kimi_code_conversations_count_locally(
    code_kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    conversation = code_kimi.conversation(context_window=6000, reserve_tokens=1000)
    results = [conversation.say(long_message(n, words=900)) for n in range(8)]
    assert [r.text for r in results] == [f"noted {n}" for n in range(8)]
    assert conversation.summaries >= 1
    assert all(r.usage.input_total <= 5000 for r in results)
    assert not [r for r in kimi_emulator.requests() if "estimate" in str(r["path"])]


def test_a_message_too_large_for_the_window_is_refused_before_sending(
    kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    conversation = kimi.conversation(model="moonshot-v1-8k")
    with pytest.raises(KimiError, match="the newest message alone needs more than"):
        conversation.say(long_message(0, words=9000))
    assert chat_bodies(kimi_emulator) == []
