"""The real OpenClaw CLI (`openclaw agent exec`), configured with the provider block
`kimi-gateway setup openclaw` prints, runs a text turn and a tool turn (it really runs its `exec`
tool and sends the output back), with both provider types, `anthropic-messages` and
`openai-completions`, through the gateway to the emulator. Runs straight against the emulator's
Open Platform faces check the emulator and this harness on their own.

Skipped only when OpenClaw is not installed in .clients/ (`.ci/install-clients`; CI runs it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from clients.real_clients import (
    MODEL,
    OPENCLAW_PROVIDER,
    generation_requests,
    marker_token,
    openclaw_missing,
    openclaw_result,
    run_openclaw,
    tool_marker,
    tool_results_seen,
)

from kimi_gateway.cli.setup import OpenClawApi, Target
from kimi_gateway.emulator.server import EmulatorServer

pytestmark = pytest.mark.skipif(openclaw_missing() is not None, reason=str(openclaw_missing()))

APIS: list[OpenClawApi] = ["anthropic", "openai"]


@dataclass(frozen=True)
class Route:
    target: Target
    api: OpenClawApi
    emulator: EmulatorServer
    direct: bool  # True: straight to the emulator, no gateway


def _route(request: pytest.FixtureRequest, emulator: EmulatorServer, api: OpenClawApi) -> Route:
    if request.param == "emulator":
        # Open Platform faces: /anthropic (+ /v1/messages) and /v1 (+ /chat/completions).
        root = emulator.url + "/anthropic" if api == "anthropic" else emulator.url
        key = "sk-" + secrets.token_hex(8)
        return Route(Target(root, key, MODEL), api, emulator, True)
    try:
        gateway = request.getfixturevalue("gateway")
    except pytest.FixtureLookupError:
        pytest.skip("no `gateway` fixture in tests/e2e/conftest.py yet (S1)")
    key = getattr(gateway, "key", None) or "kgw-" + secrets.token_hex(8)
    return Route(Target(gateway.url, key, MODEL), api, emulator, False)


@pytest.fixture(params=["gateway", "emulator"])
def via(request: pytest.FixtureRequest) -> pytest.FixtureRequest:
    return request


@pytest.mark.parametrize("api", APIS)
def test_text_turn(
    via: pytest.FixtureRequest, api: OpenClawApi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    route = _route(via, kimi_emulator, api)
    reply = "openclaw-text-" + secrets.token_hex(4)
    run = run_openclaw(route.target, api, tmp_path, f"Say the word. @@text:{reply}@@")

    assert run.returncode == 0, run.describe()
    result = openclaw_result(run)
    assert (result["ok"], result["status"], result["final"]) == (True, "ok", reply), result
    assert (result["provider"], result["model"]) == (OPENCLAW_PROVIDER, MODEL)
    assert result["usage"]["output"] > 0
    assert len(generation_requests(route.emulator.requests())) == 1


@pytest.mark.parametrize("api", APIS)
def test_tool_turn_runs_exec_and_sends_the_output_back(
    via: pytest.FixtureRequest, api: OpenClawApi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    route = _route(via, kimi_emulator, api)
    command_word, printed = marker_token()
    prompt = f"Run this. {tool_marker('exec', f'echo {command_word}')}"
    # Straight to Kimi's OpenAI face, `--thinking off` cannot work: OpenClaw sends no `thinking`
    # field (Kimi's default is on) and then drops the reasoning from the replayed tool-call
    # turn, which Kimi rejects (field-lessons.md §2.1; test below). With thinking on, OpenClaw
    # replays `reasoning_content`. Through the gateway, `--thinking off` must work.
    thinking = "low" if route.direct and api == "openai" else "off"
    run = run_openclaw(route.target, api, tmp_path, prompt, thinking=thinking)

    assert run.returncode == 0, run.describe()
    result = openclaw_result(run)
    expected = f"TOOL_RESULT_SEEN: {printed}"
    assert (result["ok"], result["status"], result["final"]) == (True, "ok", expected), result
    assert result["toolSummary"] == {"calls": 1, "tools": ["exec"], "failures": 0}
    assert result["assistantTurns"] == 2
    log = route.emulator.requests()
    assert printed in tool_results_seen(log), log
    assert len(generation_requests(log)) == 2


def test_direct_openai_thinking_off_tool_turn_gets_kimis_reasoning_content_400(
    kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Why the gateway must repair histories: the emulator reproduces Kimi's most reported
    failure with the real client (field-lessons.md §2.1)."""
    target = Target(kimi_emulator.url, "sk-" + secrets.token_hex(8), MODEL)
    command_word, _ = marker_token()
    prompt = f"Run this. {tool_marker('exec', f'echo {command_word}')}"
    run = run_openclaw(target, "openai", tmp_path, prompt, thinking="off")

    assert run.returncode == 1, run.describe()
    result = openclaw_result(run)
    assert result["status"] == "error"
    assert result["error"]["message"] == (
        "400 thinking is enabled but reasoning_content is missing in assistant tool call "
        "message at index 2"
    )
    statuses = [e["status"] for e in generation_requests(kimi_emulator.requests())]
    assert statuses == [200, 400]
