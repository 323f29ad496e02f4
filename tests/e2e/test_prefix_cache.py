"""Kimi bills cached input at a fraction of the price and its cache matches identical rendered
prefixes (docs/kimi.md §12, §20), so the gateway must render the same history the same way every
turn (issue 15 item 5). Two 20-turn sessions (prefix_replay.py) are replayed through the gateway
on every path and straight to the emulator, whose cache matches the rendered prompt per key
(emulator/prompt_cache.py): through the gateway, each turn must find the whole previous turn
cached, and the session's cached share must be at least the direct one."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from prefix_replay import TURNS, Session, claude_code_session, openai_session

from kimi_gateway.emulator.server import EmulatorServer

DIRECT_PLATFORM_KEY = "sk-direct-client"
DIRECT_CODE_KEY = "sk-kimi-direct-client"


def _breaks(session: Session) -> list[int]:
    """Turns that did not find the whole previous turn's input cached."""
    turns = session.turns
    return [i for i in range(1, len(turns)) if turns[i].cached < turns[i - 1].prompt]


def _anthropic(url: str, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)


def _assert_as_good(through: Session, direct: Session) -> None:
    assert (len(through.turns), len(direct.turns)) == (TURNS, TURNS)
    assert _breaks(direct) == []
    assert _breaks(through) == []
    assert through.ratio >= direct.ratio


@pytest.mark.parametrize("keep_reasoning", [True, False], ids=["sent-back", "dropped"])
def test_openai_tool_session(
    kimi_emulator: EmulatorServer, gateway_factory: Any, keep_reasoning: bool
) -> None:
    """Dropped: most OpenAI apps send the assistant turn back without reasoning_content, which
    Kimi refuses directly (§8.3); the gateway puts back the same reasoning every turn."""
    gateway = gateway_factory()
    direct_client = openai.OpenAI(
        base_url=kimi_emulator.platform_url, api_key=DIRECT_PLATFORM_KEY, max_retries=0
    )
    direct = openai_session(direct_client, "kimi-k2.5", "direct")
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="any", max_retries=0)
    through = openai_session(client, "kimi-k2.5", "gateway", keep_reasoning=keep_reasoning)
    _assert_as_good(through, direct)


@pytest.mark.parametrize("cache_key", [None, "session-7f3a"], ids=["derived", "sent"])
def test_openai_tool_session_on_kimi_code(
    kimi_emulator: EmulatorServer, gateway_factory: Any, cache_key: str | None
) -> None:
    """Kimi Code wants a prompt_cache_key (§13.1): the client's goes through unchanged, or the
    gateway derives one that stays the same every turn (quirks_tools.ensure_prompt_cache_key)."""
    gateway = gateway_factory()
    direct_client = openai.OpenAI(
        base_url=kimi_emulator.kimi_code_url, api_key=DIRECT_CODE_KEY, max_retries=0
    )
    key = {"prompt_cache_key": "session-7f3a"}
    direct = openai_session(direct_client, "kimi-for-coding", "direct", extra_body=key)
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="any", max_retries=0)
    sent = {"prompt_cache_key": cache_key} if cache_key else None
    _assert_as_good(openai_session(client, "kimi-for-coding", "gateway", extra_body=sent), direct)


@pytest.mark.parametrize("route", ["native", "translate"])
def test_claude_code_session_on_the_platform(
    kimi_emulator: EmulatorServer, gateway_factory: Any, route: str
) -> None:
    """The platform's Anthropic route (§14), or its OpenAI face with the history translated."""
    gateway = gateway_factory(anthropic_route=route)
    direct_client = _anthropic(kimi_emulator.url + "/anthropic", DIRECT_PLATFORM_KEY)
    direct = claude_code_session(direct_client, "kimi-k2.5", "direct")
    through = claude_code_session(_anthropic(gateway.url, "any"), "kimi-k2.5", "gateway")
    _assert_as_good(through, direct)


def test_claude_code_session_on_kimi_code(
    kimi_emulator: EmulatorServer, gateway_factory: Any
) -> None:
    gateway = gateway_factory()
    direct_client = _anthropic(kimi_emulator.url + "/coding", DIRECT_CODE_KEY)
    direct = claude_code_session(direct_client, "kimi-for-coding", "direct")
    through = claude_code_session(_anthropic(gateway.url, "any"), "kimi-for-coding", "gateway")
    _assert_as_good(through, direct)


def test_parallel_calls_keep_the_prefix(
    kimi_emulator: EmulatorServer, gateway_factory: Any
) -> None:
    """Two calls a turn: their order and ids come back the same way every turn."""
    openai_client = openai.OpenAI(
        base_url=gateway_factory().openai_url, api_key="any", max_retries=0
    )
    translated = _anthropic(gateway_factory(anthropic_route="translate").url, "any")
    sessions = [
        openai_session(openai_client, "kimi-k2.5", "openai", calls=2),
        claude_code_session(translated, "kimi-k2.5", "translated", calls=2),
    ]
    assert [(len(s.turns), _breaks(s)) for s in sessions] == [(TURNS, []), (TURNS, [])]


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-for-coding"])
def test_a_restart_or_another_replica_keeps_the_prefix(
    kimi_emulator: EmulatorServer, gateway_factory: Any, model: str
) -> None:
    """The signatures a gateway remembers are its process's own: another replica, or the same
    gateway after a restart, must still send Kimi the history it read last turn (the default
    quirks.foreign_thinking: unsigned), not drop Kimi's thinking from it."""
    first, second = gateway_factory(), gateway_factory()
    clients = [_anthropic(first.url, "any"), _anthropic(second.url, "any")]
    restarted = claude_code_session(lambda turn: clients[turn >= TURNS // 2], model, "restart")
    kimi_emulator.state.reset()
    replicas = claude_code_session(lambda turn: clients[turn % 2], model, "replicas")
    assert [(len(s.turns), _breaks(s)) for s in (restarted, replicas)] == [(TURNS, []), (TURNS, [])]
