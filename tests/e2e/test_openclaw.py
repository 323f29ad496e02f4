"""The real OpenClaw CLI (`openclaw agent exec`), configured with the provider block
`kimi-gateway setup openclaw` prints, runs a text turn and a tool turn (it really runs its `exec`
tool and sends the output back), with both provider types, `anthropic-messages` and
`openai-completions`, through the gateway to the emulator, with `--thinking off`.

Each OpenClaw run costs about 10 s of start-up, so only one run goes straight to the emulator:
the one that shows why the gateway must repair tool-call histories.

Skipped only when OpenClaw is not installed in .clients/ (`.ci/install-clients`), and never in
CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from clients.real_clients import (
    MODEL,
    OPENCLAW_PROVIDER,
    generation_requests,
    marker_token,
    openclaw_missing,
    openclaw_result,
    require_installed,
    run_openclaw,
    tool_marker,
    tool_results_seen,
)

from kimi_gateway.cli.setup import OpenClawApi, Target
from kimi_gateway.emulator.server import EmulatorServer

APIS: list[OpenClawApi] = ["anthropic", "openai"]


@pytest.fixture
def target(gateway: Any) -> Target:
    """The gateway (tests/e2e/conftest.py) in front of the emulator; on 127.0.0.1 with no
    gateway keys made, any key is accepted."""
    require_installed(openclaw_missing())
    return Target(gateway.url, "kgw-" + secrets.token_hex(8), MODEL)


@pytest.mark.parametrize("api", APIS)
def test_text_turn(
    target: Target, api: OpenClawApi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    reply = "openclaw-text-" + secrets.token_hex(4)
    run = run_openclaw(target, api, tmp_path, f"Say the word. @@text:{reply}@@")

    assert run.returncode == 0, run.describe()
    result = openclaw_result(run)
    assert (result["ok"], result["status"], result["final"]) == (True, "ok", reply), result
    assert (result["provider"], result["model"]) == (OPENCLAW_PROVIDER, MODEL)
    assert result["usage"]["output"] > 0
    assert len(generation_requests(kimi_emulator.requests())) == 1


@pytest.mark.parametrize("api", APIS)
def test_tool_turn_runs_exec_and_sends_the_output_back(
    target: Target, api: OpenClawApi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    command_word, printed = marker_token()
    prompt = f"Run this. {tool_marker('exec', f'echo {command_word}')}"
    run = run_openclaw(target, api, tmp_path, prompt, thinking="off")

    assert run.returncode == 0, run.describe()
    result = openclaw_result(run)
    expected = f"TOOL_RESULT_SEEN: {printed}"
    assert (result["ok"], result["status"], result["final"]) == (True, "ok", expected), result
    assert result["toolSummary"] == {"calls": 1, "tools": ["exec"], "failures": 0}
    assert result["assistantTurns"] == 2
    log = kimi_emulator.requests()
    # The emulator answers `TOOL_RESULT_SEEN: <result>` once a tool result reaches it.
    assert printed in tool_results_seen(log), log
    assert len(generation_requests(log)) == 2


def test_straight_to_kimi_openai_thinking_off_tool_turn_gets_the_reasoning_content_400(
    kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """What the gateway repairs: OpenClaw's `openai-completions` with `--thinking off` sends no
    `thinking` field (Kimi's default is on), then replays the tool-call turn without its
    `reasoning_content`, which Kimi rejects (docs/kimi.md §F2.1). The emulator reproduces it
    with the real client; the gateway variant of the tool turn above must pass."""
    require_installed(openclaw_missing())
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
