"""Run the real Claude Code and OpenClaw CLIs against a base URL on 127.0.0.1, offline.

`.ci/install-clients` installs them from npm into `.clients/` (Claude Code 2.1.197; OpenClaw
2026.9.6 with its own Node 24 in `.clients/node24/`). Each run gets a throwaway HOME, a minimal
environment (no proxies, no inherited keys) and the configuration `kimi-gateway setup` prints,
so these runs also prove that what `setup` tells a user works with the real client.
How to run each client offline: docs/kimi.md §F1.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from kimi_gateway.cli.setup import OpenClawApi, Target, claude_code_env, openclaw_config

REPO = Path(__file__).resolve().parents[3]
CLIENTS = REPO / ".clients"
CLAUDE_BIN = CLIENTS / "node_modules" / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe"
OPENCLAW_MJS = CLIENTS / "node_modules" / "openclaw" / "openclaw.mjs"
RUN_TIMEOUT_S = 90
MODEL = "kimi-k2.5"
OPENCLAW_PROVIDER = "gw"
INSTALL_HINT = "not installed in .clients/ (run .ci/install-clients; CI does)"


def claude_missing() -> str | None:
    """Why Claude Code cannot run here, or None."""
    return None if CLAUDE_BIN.is_file() else f"Claude Code {INSTALL_HINT}"


def node24() -> Path | None:
    found = sorted(CLIENTS.glob("node24/node_modules/node-linux-*/bin/node"))
    return found[0] if found else None


def openclaw_missing() -> str | None:
    """Why OpenClaw cannot run here, or None."""
    if not OPENCLAW_MJS.is_file() or node24() is None:
        return f"OpenClaw (and its Node 24) {INSTALL_HINT}"
    return None


def require_installed(missing: str | None) -> None:
    """Skip when a client is missing, except in CI, where .ci/run installs them: there a missing
    client is a broken install step, and a silent skip would hide it."""
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing}, but CI=true: .ci/run must run .ci/install-clients")
    pytest.skip(missing)


@dataclass(frozen=True)
class ClientRun:
    """One finished (or timed-out) client process."""

    args: list[str]
    returncode: int | None  # None: killed at RUN_TIMEOUT_S
    stdout: str
    stderr: str

    def describe(self) -> str:
        """Everything needed to see why a run failed, for assertion messages."""
        return (
            f"command: {self.args}\nexit: {self.returncode}\n"
            f"stdout (tail):\n{self.stdout[-3000:]}\nstderr (tail):\n{self.stderr[-3000:]}"
        )


def _run(args: list[str], env: dict[str, str], cwd: Path) -> ClientRun:
    try:
        done = subprocess.run(
            args,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return ClientRun(args, None, _text(exc.stdout), _text(exc.stderr))
    return ClientRun(args, done.returncode, done.stdout, done.stderr)


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def isolated_env(home: Path) -> dict[str, str]:
    """A clean environment: a fresh HOME and temp dir, the system PATH, nothing inherited."""
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
    }


def marker_token() -> tuple[str, str]:
    """A shell word for a tool to echo, and what the shell prints for it.

    The printed form (`kgw-42-…`) appears in no prompt, so seeing it proves the client really
    ran the command and sent its output back.
    """
    tail = secrets.token_hex(6)
    return f"kgw-$((6*7))-{tail}", f"kgw-42-{tail}"


def tool_marker(name: str, command: str) -> str:
    """The emulator's scripted tool-call marker (the emulator contract, script.py)."""
    return f"@@tool:{name} {orjson.dumps({'command': command}).decode()}@@"


# --- Claude Code ------------------------------------------------------------------------------


def claude_env(target: Target | None, home: Path) -> dict[str, str]:
    """The environment of a run: `setup claude-code`'s exports for ``target`` (None: none, so
    Claude Code must find them in ``home``'s ~/.claude/settings.json) plus the test extras."""
    return {
        **isolated_env(home),
        **(claude_code_env(target) if target is not None else {}),
        # docs/kimi.md §F1: the rest of the offline set, and no silent non-streaming retry
        # that would hide a broken stream.
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK": "1",
    }


def run_claude_text(target: Target | None, home: Path, prompt: str) -> ClientRun:
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    args = [str(CLAUDE_BIN), "-p", prompt, "--output-format", "json"]
    return _run(args, claude_env(target, home), work)


def run_claude_tool(target: Target, home: Path, prompt: str) -> ClientRun:
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    args = [str(CLAUDE_BIN), "-p", prompt, "--output-format", "stream-json", "--verbose"]
    args += ["--allowedTools", "Bash", "--max-turns", "4"]
    return _run(args, claude_env(target, home), work)


def claude_events(run: ClientRun) -> list[dict[str, Any]]:
    """The stream-json lines of a tool run."""
    return [orjson.loads(line) for line in run.stdout.splitlines() if line.strip()]


def claude_blocks(events: list[dict[str, Any]], block_type: str) -> list[dict[str, Any]]:
    """Every content block of one type in the assistant/user messages of a stream-json run."""
    return [
        block
        for event in events
        if event.get("type") in ("assistant", "user")
        for block in event["message"]["content"]
        if isinstance(block, dict) and block.get("type") == block_type
    ]


# --- OpenClaw ---------------------------------------------------------------------------------


def run_openclaw(
    target: Target, api: OpenClawApi, root: Path, prompt: str, thinking: str = "off"
) -> ClientRun:
    """One headless `openclaw agent exec` turn with the config `setup openclaw` prints."""
    state, workspace = root / "state", root / "ws"
    state.mkdir(parents=True, exist_ok=True)
    workspace.mkdir(parents=True, exist_ok=True)
    config = root / "openclaw.json"
    config.write_bytes(orjson.dumps(openclaw_config(target, api, OPENCLAW_PROVIDER)))
    env = {
        **isolated_env(root / "home"),
        "OPENCLAW_STATE_DIR": str(state),
        "OPENCLAW_CONFIG_PATH": str(config),
        # Node's compile cache (OpenClaw enables it, in TMPDIR by default) kept across runs
        # cuts about a quarter of each run's start-up.
        "NODE_COMPILE_CACHE": str(CLIENTS / "node-compile-cache"),
    }
    node = node24()
    assert node is not None, openclaw_missing()
    args = [str(node), str(OPENCLAW_MJS), "agent", "exec", "--config", str(config)]
    args += ["--model", f"{OPENCLAW_PROVIDER}/{target.model}", "--thinking", thinking]
    args += ["--json", "--cwd", str(workspace), prompt]
    return _run(args, env, workspace)


def openclaw_result(run: ClientRun) -> dict[str, Any]:
    """The `--json` envelope OpenClaw prints on stdout."""
    result: dict[str, Any] = orjson.loads(run.stdout)
    return result


# --- what the emulator saw --------------------------------------------------------------------


def generation_requests(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Logged POSTs to a chat-completions or messages endpoint."""
    return [
        entry
        for entry in log
        if entry["method"] == "POST" and entry["path"].endswith(("/chat/completions", "/messages"))
    ]


def tool_results_seen(log: list[dict[str, Any]]) -> list[str]:
    """Text of every tool result the emulator received, in either dialect."""
    seen: list[str] = []
    for entry in generation_requests(log):
        for message in (entry.get("body") or {}).get("messages", []):
            if message.get("role") == "tool":  # OpenAI Chat
                seen.append(_flatten(message.get("content")))
            content = message.get("content")
            if isinstance(content, list):  # Anthropic Messages
                seen += [
                    _flatten(block.get("content"))
                    for block in content
                    if isinstance(block, dict) and block.get("type") == "tool_result"
                ]
    return seen


def reasoning_sent_back(entry: dict[str, Any]) -> list[str]:
    """Reasoning carried by the assistant turns of one logged request, in either dialect:
    Anthropic `thinking` blocks or OpenAI `reasoning_content`."""
    found: list[str] = []
    for message in (entry.get("body") or {}).get("messages", []):
        if message.get("role") != "assistant":
            continue
        if isinstance(message.get("reasoning_content"), str):
            found.append(message["reasoning_content"])
        content = message.get("content")
        if isinstance(content, list):
            found += [
                block.get("thinking", "")
                for block in content
                if isinstance(block, dict) and block.get("type") == "thinking"
            ]
    return found


def _flatten(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""
