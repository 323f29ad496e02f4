"""Kimi's rules on the Anthropic faces, part two: replayed thinking signatures (§13.3), model
names (§13.1), context limits, thinking and tool_choice (§8.4), the fields real clients send."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_gateway.emulator.anthropic_signing import sign_thinking, signing_key
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.script import DEFAULT_REPLY
from kimi_gateway.emulator.server import EmulatorServer

from .conftest import KIMI_CODE_MODEL_NAMES
from .test_anthropic_rules import anthropic_error, bad
from .test_anthropic_support import BASH_TOOL, BASH_TURN, CODING, HI, PLATFORM, post

# --- signatures -------------------------------------------------------------------------------


def _replay(thinking: str, signature: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "first"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": thinking, "signature": signature},
                {"type": "text", "text": "answer"},
            ],
        },
        {"role": "user", "content": "second"},
    ]


def test_replayed_thinking_signatures(kimi_emulator: EmulatorServer) -> None:
    good = sign_thinking(signing_key(0), "I thought.")
    ok = {"model": "k3", "max_tokens": 200}
    assert (
        post(kimi_emulator, CODING, {**ok, "messages": _replay("I thought.", good)}).status_code
        == 200
    )
    # Claude Code replays unsigned blocks with "" (docs/kimi.md §F1): accepted.
    assert (
        post(kimi_emulator, CODING, {**ok, "messages": _replay("I thought.", "")}).status_code
        == 200
    )
    # Edited thinking or a forged signature: refused (§13.3).
    for thinking, signature in (("I thought differently.", good), ("I thought.", "forged")):
        bad(
            kimi_emulator,
            CODING,
            {"messages": _replay(thinking, signature)},
            "messages.1.content.0: Invalid `signature` in `thinking` block",
        )
    # The platform route does not check signatures (no evidence that it does).
    platform = post(
        kimi_emulator,
        PLATFORM,
        {"model": "kimi-k3", "max_tokens": 200, "messages": _replay("I thought.", "forged")},
    )
    assert platform.status_code == 200


# --- models, thinking and tool_choice ---------------------------------------------------------


@pytest.mark.parametrize("name", KIMI_CODE_MODEL_NAMES)
def test_kimi_code_model_names_report_kimi_for_coding(
    kimi_emulator: EmulatorServer, name: str
) -> None:
    reply = post(kimi_emulator, CODING, {"model": name, "max_tokens": 200, "messages": HI})
    assert reply.json()["model"] == "kimi-for-coding"


def test_unknown_models(kimi_emulator: EmulatorServer, kimi_emulator_factory: Any) -> None:
    body = {"max_tokens": 200, "messages": HI}
    missing = "Not found the model nope or Permission denied"
    anthropic_error(
        post(kimi_emulator, CODING, {**body, "model": "nope"}), 404, "not_found_error", missing
    )
    anthropic_error(
        post(kimi_emulator, PLATFORM, {**body, "model": "gpt-4o"}),
        404,
        "not_found_error",
        "Not found the model or Permission denied",
    )
    # §13.1 [3M] HALRO: Kimi Code answers unknown names with 200 and echoes them (opt-in).
    echoing = kimi_emulator_factory(EmulatorConfig(kimi_code_unknown_model="accept"))
    reply = post(echoing, CODING, {**body, "model": "halro-no-such-model"}).json()
    assert reply["model"] == "halro-no-such-model"


def test_context_limits_per_face(kimi_emulator: EmulatorServer) -> None:
    bad(
        kimi_emulator,
        CODING,
        {"max_tokens": 262_144, "messages": HI},
        "Your request exceeded model token limit: 262144",
    )
    bad(
        kimi_emulator,
        PLATFORM,
        {"model": "kimi-k2.6", "max_tokens": 262_144, "messages": HI},
        "Your request exceeded model token limit : 262144",
    )


def test_named_tool_choice_with_thinking(kimi_emulator: EmulatorServer) -> None:
    """§8.4 [3M] HALRO: refused with thinking on k2.x and on Kimi Code, accepted on k3."""
    named = {
        "tools": [BASH_TOOL],
        "messages": BASH_TURN,
        "tool_choice": {"type": "tool", "name": "Bash"},
    }
    message = "tool_choice 'specified' is incompatible with thinking enabled"
    bad(kimi_emulator, CODING, named, message)
    bad(kimi_emulator, PLATFORM, {**named, "model": "kimi-k2.6"}, message)
    assert (
        post(kimi_emulator, PLATFORM, {"model": "kimi-k3", "max_tokens": 200, **named}).status_code
        == 200
    )
    off = {"model": "kimi-k2.6", "max_tokens": 200, "thinking": {"type": "disabled"}, **named}
    assert post(kimi_emulator, PLATFORM, off).status_code == 200
    unknown = {**named, "tool_choice": {"type": "tool", "name": "Nope"}}
    bad(kimi_emulator, PLATFORM, unknown, "tool_choice.name: tool 'Nope' is not in tools")


def test_tool_choice_any_and_none(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-for-coding",
        "max_tokens": 200,
        "tools": [BASH_TOOL],
        "messages": BASH_TURN,
    }
    called = post(kimi_emulator, CODING, {**body, "tool_choice": {"type": "any"}}).json()
    assert called["stop_reason"] == "tool_use"
    silent = post(kimi_emulator, CODING, {**body, "tool_choice": {"type": "none"}}).json()
    assert silent["stop_reason"] == "end_turn"
    assert silent["content"][-1] == {"type": "text", "text": DEFAULT_REPLY}


def test_accepted_fields_claude_code_and_kimi_cli_send(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-for-coding",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [*HI, {"role": "system", "content": "mid-conversation system"}],
        "metadata": {"user_id": '{"session_id":"s1"}'},
        "thinking": {"type": "adaptive"},
        "output_config": {
            "effort": "high",
            "format": {"type": "json_schema", "schema": {"type": "object"}},
        },
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "temperature": 0.3,
        "top_k": 5,
        "some_future_field": True,
    }
    response = post(
        kimi_emulator, CODING + "?beta=true", body, **{"anthropic-beta": "made-up-beta-2099-01-01"}
    )
    assert response.status_code == 200, response.text
    assert [block["type"] for block in response.json()["content"]] == ["thinking", "text"]
