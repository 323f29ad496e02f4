"""The real Claude Code CLI, configured exactly as `kimi-gateway setup claude-code` prints, runs a
text turn and a tool turn (it really runs Bash and sends the output back) through the gateway to
the emulator. The same runs straight against the emulator's Kimi Code face check the emulator
and this harness on their own, so a failure says which side broke.

Skipped only when Claude Code is not installed in .clients/ (`.ci/install-clients`), and never
in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from clients.real_clients import (
    MODEL,
    claude_blocks,
    claude_events,
    claude_missing,
    generation_requests,
    marker_token,
    reasoning_sent_back,
    require_installed,
    run_claude_text,
    run_claude_tool,
    tool_marker,
    tool_results_seen,
)
from typer.testing import CliRunner

from kimi_gateway.cli.main import app
from kimi_gateway.cli.setup import Target
from kimi_gateway.emulator.server import EmulatorServer


@dataclass(frozen=True)
class Route:
    target: Target
    emulator: EmulatorServer
    direct: bool  # True: straight to the emulator, no gateway


@pytest.fixture(params=["gateway", "emulator"])
def route(request: pytest.FixtureRequest, kimi_emulator: EmulatorServer) -> Route:
    require_installed(claude_missing())
    if request.param == "emulator":
        # Kimi Code's Anthropic face: Claude Code appends /v1/messages to the base URL (§13.3);
        # its keys start `sk-kimi-` (docs/kimi.md §1). Its model name for Claude Code is
        # `kimi-for-coding` (§4.1), which it also reports back whatever name was sent (§13.1);
        # Claude Code drops thinking blocks from the history when the reported model differs
        # from the one it asked for, so asking for another name would lose the reasoning.
        key = "sk-kimi-" + secrets.token_hex(8)
        target = Target(kimi_emulator.url + "/coding", key, "kimi-for-coding")
        return Route(target, kimi_emulator, True)
    # The gateway (tests/e2e/conftest.py) in front of the same emulator; on 127.0.0.1 with no
    # gateway keys made, any key is accepted.
    gateway = request.getfixturevalue("gateway")
    key = "kgw-" + secrets.token_hex(8)
    return Route(Target(gateway.url, key, MODEL), kimi_emulator, False)


def test_text_turn(route: Route, tmp_path: Path) -> None:
    reply = "claude-text-" + secrets.token_hex(4)
    run = run_claude_text(route.target, tmp_path, f"Say the word. @@text:{reply}@@")

    assert run.returncode == 0, run.describe()
    result: dict[str, Any] = orjson.loads(run.stdout)
    assert (result["type"], result["subtype"], result["is_error"]) == ("result", "success", False)
    assert result["result"] == reply
    assert result["stop_reason"] == "end_turn"
    # The reply's usage reached the client (a missing message_stop would leave it at 0).
    assert result["usage"]["output_tokens"] > 0
    log = route.emulator.requests()
    assert len(generation_requests(log)) == 1, log
    if route.direct:
        # Offline: HEAD on the base URL, then the one streamed Messages call; nothing else.
        assert [(e["method"], e["path"], e["query"]) for e in log] == [
            ("HEAD", "/coding", ""),
            ("POST", "/coding/v1/messages", "beta=true"),
        ]
        assert log[1]["body"]["stream"] is True


def test_tool_turn_runs_bash_and_sends_the_output_back(route: Route, tmp_path: Path) -> None:
    command_word, printed = marker_token()
    command = f"echo {command_word}"
    run = run_claude_tool(route.target, tmp_path, f"Run this. {tool_marker('Bash', command)}")

    assert run.returncode == 0, run.describe()
    events = claude_events(run)
    uses = claude_blocks(events, "tool_use")
    assert [(u["name"], u["input"]) for u in uses] == [("Bash", {"command": command})]
    results = claude_blocks(events, "tool_result")
    assert [(r["tool_use_id"], r["content"], r["is_error"]) for r in results] == [
        (uses[0]["id"], printed, False)
    ]
    final = events[-1]
    assert (final["type"], final["subtype"], final["is_error"]) == ("result", "success", False)
    # The emulator answers `TOOL_RESULT_SEEN: <result>` once a tool result reaches it.
    assert final["result"] == f"TOOL_RESULT_SEEN: {printed}"
    assert final["num_turns"] == 2
    log = route.emulator.requests()
    assert printed in tool_results_seen(log), log
    generations = generation_requests(log)
    assert len(generations) == 2
    # Thinking: Kimi's reasoning reached Claude Code as thinking blocks, and went back upstream
    # with the tool result (docs/kimi.md §F2.1, §F2.6).
    thoughts = [block["thinking"] for block in claude_blocks(events, "thinking")]
    assert thoughts, events
    assert all(thoughts)
    assert thoughts[0] in reasoning_sent_back(generations[1])


def test_setup_write_alone_configures_claude_code(
    gateway: Any, kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    """`kimi-gateway setup claude-code --write` and nothing else in the environment: Claude Code
    reads the env block of ~/.claude/settings.json and reaches the gateway."""
    require_installed(claude_missing())
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark", "env": {"KEEP_ME": "1"}}')
    key = "kgw-" + secrets.token_hex(8)
    args = ["setup", "claude-code", "--write", "--file", str(settings)]
    written = CliRunner().invoke(app, [*args, "--base-url", gateway.url, "--key", key])
    assert written.exit_code == 0, written.output
    assert orjson.loads(settings.read_bytes())["theme"] == "dark"

    reply = "claude-settings-" + secrets.token_hex(4)
    run = run_claude_text(None, tmp_path, f"Say the word. @@text:{reply}@@")

    assert run.returncode == 0, run.describe()
    assert orjson.loads(run.stdout)["result"] == reply
    generations = generation_requests(kimi_emulator.requests())
    assert [entry["body"]["model"] for entry in generations] == ["kimi-k2.6"]  # settings default
