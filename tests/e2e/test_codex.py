"""The real Codex CLI (`@openai/codex` 0.169 from npm, installed by .ci/install-clients) through
the gateway to the emulator, offline, configured only by `kimi-gateway setup codex --write`:
`codex exec` runs a text turn, and a shell-tool turn in which the model calls Codex's
`exec_command` through an emulator marker, Codex really runs it, and the model sees the output
(with Kimi's reasoning restored from the sealed `encrypted_content`, since Codex sends
`store: false`). Skipped only when Codex is not installed in .clients/, never in CI.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from clients.real_clients import CLIENTS, INSTALL_HINT, isolated_env, marker_token
from clients.real_clients import require_installed as require
from gateway_server import GatewayServer
from typer.testing import CliRunner

from kimi_gateway.cli.main import app
from kimi_gateway.emulator.server import EmulatorServer

CODEX_BIN = CLIENTS / "node_modules" / ".bin" / "codex"
MODEL = "kimi-k2.6"
REASONING = "The user wrote to me. I will answer with the scripted reply."
TIMEOUT_S = 120


@dataclass(frozen=True)
class CodexRun:
    returncode: int | None
    events: list[dict[str, Any]]
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\nevents: {self.events}\nstderr: {self.stderr[-3000:]}"

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [
            e["item"]
            for e in self.events
            if e.get("type") == "item.completed" and e["item"].get("type") == kind
        ]


@pytest.fixture
def codex_home(gateway: GatewayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CODEX_HOME whose config.toml is exactly what `setup codex --write` writes."""
    require(None if CODEX_BIN.exists() else f"Codex CLI {INSTALL_HINT}")
    home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(home))
    args = ["setup", "codex", "--write", "--base-url", gateway.url, "--model", MODEL]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return home


def run_codex(home: Path, prompt: str) -> CodexRun:
    work = home.parent / "work"
    work.mkdir(exist_ok=True)
    env = {**isolated_env(home.parent / "home"), "CODEX_HOME": str(home)}
    args = [str(CODEX_BIN), "exec", "--json", "--skip-git-repo-check", prompt]
    try:
        done = subprocess.run(
            args,
            env=env,
            cwd=work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return CodexRun(None, [], str(exc.stderr or ""))
    events = [orjson.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return CodexRun(done.returncode, events, done.stderr)


def responses_requests(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r["body"] for r in emulator.requests() if r["path"] == "/v1/chat/completions"]


def test_codex_text_turn(codex_home: Path, kimi_emulator: EmulatorServer) -> None:
    run = run_codex(codex_home, "@@text:Hello from Kimi through the gateway@@")
    assert run.returncode == 0, run.describe()
    messages = [item["text"] for item in run.items("agent_message")]
    assert messages == ["Hello from Kimi through the gateway"], run.describe()
    assert [item["text"] for item in run.items("reasoning")] == [REASONING]
    turn = next(e for e in run.events if e["type"] == "turn.completed")
    assert turn["usage"]["input_tokens"] > 0
    assert turn["usage"]["reasoning_output_tokens"] > 0
    (sent,) = responses_requests(kimi_emulator)
    assert sent["model"] == MODEL
    assert sent["stream"] is True
    assert [t["function"]["name"] for t in sent["tools"]][:2] == ["exec_command", "write_stdin"]


def test_codex_shell_tool_turn(codex_home: Path, kimi_emulator: EmulatorServer) -> None:
    word, printed = marker_token()
    call = orjson.dumps({"cmd": f"echo {word}"}).decode()
    run = run_codex(codex_home, f"@@tool:exec_command {call}@@")
    assert run.returncode == 0, run.describe()
    (command,) = run.items("command_execution")
    assert (command["exit_code"], command["aggregated_output"]) == (0, printed + "\n")
    (answer,) = run.items("agent_message")
    assert answer["text"].startswith("TOOL_RESULT_SEEN: ")
    assert printed in answer["text"]
    first, second = responses_requests(kimi_emulator)
    assistant, tool = second["messages"][-2:]
    assert assistant["tool_calls"][0]["function"]["name"] == "exec_command"
    assert assistant["reasoning_content"] == REASONING  # from the sealed encrypted_content
    assert (tool["role"], tool["tool_call_id"]) == ("tool", assistant["tool_calls"][0]["id"])
    assert printed in tool["content"]
    assert first["messages"] == second["messages"][: len(first["messages"])]
