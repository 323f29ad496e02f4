"""`kimi-gateway setup …`: exact output of every variant, and how --write merges client files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kimi_gateway.cli.main import app
from kimi_gateway.cli.setup import KEY_PLACEHOLDER
from kimi_gateway.settings import ENV_NAMES

BASE = "http://127.0.0.1:9000"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No gateway settings from the environment; HOME is a fresh directory."""
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KIMI_GATEWAY_CONFIG", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["setup", *args])
    return result.exit_code, result.stdout, result.stderr


# --- Claude Code ------------------------------------------------------------------------------

CLAUDE_ENV = {
    "ANTHROPIC_BASE_URL": BASE,
    "ANTHROPIC_AUTH_TOKEN": "kgw-secret",
    "ANTHROPIC_MODEL": "kimi-k2.5",
    "ANTHROPIC_SMALL_FAST_MODEL": "kimi-k2.5",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "kimi-k2.5",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}


def test_claude_code_prints_exports() -> None:
    code, out, err = run(
        "claude-code", "--base-url", BASE + "/", "--key", "kgw-secret", "--model", "kimi-k2.5"
    )
    assert code == 0
    assert out == (
        f"# Claude Code -> kimi-gateway at {BASE}\n"
        f"export ANTHROPIC_BASE_URL={BASE}\n"
        "export ANTHROPIC_AUTH_TOKEN=kgw-secret\n"
        "export ANTHROPIC_MODEL=kimi-k2.5\n"
        "export ANTHROPIC_SMALL_FAST_MODEL=kimi-k2.5\n"
        "export ANTHROPIC_DEFAULT_HAIKU_MODEL=kimi-k2.5\n"
        "export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1\n"
    )
    assert err == ""


def test_claude_code_defaults_come_from_settings_with_a_placeholder_key() -> None:
    code, out, err = run("claude-code")
    assert code == 0
    assert out.splitlines()[1:4] == [
        "export ANTHROPIC_BASE_URL=http://127.0.0.1:8787",
        f"export ANTHROPIC_AUTH_TOKEN={KEY_PLACEHOLDER}",
        "export ANTHROPIC_MODEL=kimi-k2.6",
    ]
    assert "kimi-gateway keys create" in err
    assert KEY_PLACEHOLDER in err


def test_settings_environment_moves_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("KIMI_GATEWAY_PORT", "9911")
    monkeypatch.setenv("KIMI_DEFAULT_MODEL", "kimi-k2.7-code")
    _, out, _ = run("claude-code", "--key", "k")
    # A wildcard listen address becomes loopback: clients cannot connect to 0.0.0.0.
    assert "export ANTHROPIC_BASE_URL=http://127.0.0.1:9911\n" in out
    assert "export ANTHROPIC_MODEL=kimi-k2.7-code\n" in out


def test_small_model_option() -> None:
    _, out, _ = run(
        "claude-code", "--key", "k", "--model", "kimi-k2.6", "--small-model", "kimi-k2.5"
    )
    assert "export ANTHROPIC_MODEL=kimi-k2.6\n" in out
    assert "export ANTHROPIC_SMALL_FAST_MODEL=kimi-k2.5\n" in out
    assert "export ANTHROPIC_DEFAULT_HAIKU_MODEL=kimi-k2.5\n" in out


def test_claude_code_exports_survive_shell_eval() -> None:
    nasty = "k'ey with $pace;`x`"
    _, out, _ = run("claude-code", "--key", nasty, "--base-url", BASE)
    shown = subprocess.run(
        ["bash", "-c", out + 'printf %s "$ANTHROPIC_AUTH_TOKEN"'],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert shown.stdout == nasty


def test_claude_code_write_creates_settings(clean_env: Path) -> None:
    code, out, _ = run(
        "claude-code", "--write", "--base-url", BASE, "--key", "kgw-secret", "--model", "kimi-k2.5"
    )
    path = clean_env / ".claude" / "settings.json"
    assert code == 0
    assert out == f"wrote the env block of {path}: {', '.join(CLAUDE_ENV)}\n"
    assert json.loads(path.read_text()) == {"env": CLAUDE_ENV}
    # It holds a key: a new file is private to its owner.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_claude_code_write_merges_without_clobbering(clean_env: Path) -> None:
    path = clean_env / ".claude" / "settings.json"
    path.parent.mkdir()
    existing = {
        "permissions": {"allow": ["Bash(ls:*)"]},
        "model": "opus",
        "env": {"FOO": "bar", "ANTHROPIC_MODEL": "old", "ANTHROPIC_BASE_URL": "http://old"},
    }
    path.write_text(json.dumps(existing))
    path.chmod(0o644)
    code, _, _ = run(
        "claude-code", "--write", "--base-url", BASE, "--key", "kgw-secret", "--model", "kimi-k2.5"
    )
    assert code == 0
    assert json.loads(path.read_text()) == {
        "permissions": {"allow": ["Bash(ls:*)"]},
        "model": "opus",
        "env": {"FOO": "bar", **CLAUDE_ENV},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temp file left


def test_claude_code_write_to_explicit_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "s.json"
    code, _, _ = run("claude-code", "--write", "--file", str(path), "--key", "k")
    assert code == 0
    assert json.loads(path.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == "k"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"env": {"A": "1"},}', "not plain JSON"),
        ('["a list"]', "does not hold a JSON object"),
        ('{"env": "FOO=1"}', '"env" in the Claude Code settings is not an object'),
    ],
)
def test_claude_code_write_refuses_files_it_cannot_merge(
    clean_env: Path, content: str, reason: str
) -> None:
    path = clean_env / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(content)
    code, out, err = run("claude-code", "--write", "--key", "k")
    assert code == 2
    assert out == ""
    assert reason in err
    assert path.read_text() == content


# --- OpenClaw ---------------------------------------------------------------------------------


def openclaw_fragment(api: str, base_url: str, provider: str = "kimi-gateway") -> dict[str, Any]:
    return {
        "models": {
            "providers": {
                provider: {
                    "baseUrl": base_url,
                    "apiKey": "kgw-secret",
                    "api": api,
                    "models": [
                        {
                            "id": "kimi-k2.5",
                            "name": "kimi-k2.5 (kimi-gateway)",
                            "reasoning": True,
                            "input": ["text", "image"],
                            "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
                            "contextWindow": 262144,
                            "maxTokens": 32000,
                        }
                    ],
                }
            }
        },
        "agents": {"defaults": {"model": {"primary": f"{provider}/kimi-k2.5"}}},
    }


OC_ARGS = ("--base-url", BASE, "--key", "kgw-secret", "--model", "kimi-k2.5")


def test_openclaw_anthropic_is_the_default_and_uses_the_root_url() -> None:
    code, out, err = run("openclaw", *OC_ARGS)
    assert code == 0
    assert json.loads(out) == openclaw_fragment("anthropic-messages", BASE)
    assert "openclaw.json" in err


def test_openclaw_openai_base_url_ends_in_v1() -> None:
    code, out, _ = run("openclaw", "--api", "openai", *OC_ARGS)
    assert code == 0
    assert json.loads(out) == openclaw_fragment("openai-completions", BASE + "/v1")


def test_openclaw_provider_name_option() -> None:
    _, out, _ = run("openclaw", "--provider", "gw", *OC_ARGS)
    assert json.loads(out) == openclaw_fragment("anthropic-messages", BASE, provider="gw")


def test_openclaw_rejects_an_unknown_api() -> None:
    code, out, err = run("openclaw", "--api", "gemini", *OC_ARGS)
    assert (code, out) == (2, "")
    assert "--api must be anthropic or openai, not 'gemini'" in err


def test_openclaw_write_creates_the_file_openclaw_reads(clean_env: Path) -> None:
    code, out, _ = run("openclaw", "--write", "--api", "openai", *OC_ARGS)
    path = clean_env / ".openclaw" / "openclaw.json"
    assert code == 0
    assert out == f"wrote provider 'kimi-gateway' and agents.defaults.model.primary to {path}\n"
    assert json.loads(path.read_text()) == openclaw_fragment("openai-completions", BASE + "/v1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_openclaw_write_merges_and_replaces_only_our_provider(tmp_path: Path) -> None:
    path = tmp_path / "oc.json"
    other = {"baseUrl": "http://other/v1", "api": "openai-completions", "models": []}
    stale = {"baseUrl": "http://stale", "api": "openai-completions", "headers": {"X": "1"}}
    path.write_text(
        json.dumps(
            {
                "gateway": {"port": 18789},
                "models": {"mode": "merge", "providers": {"other": other, "kimi-gateway": stale}},
                "agents": {
                    "defaults": {
                        "model": {"primary": "other/x", "fallbacks": ["other/y"]},
                        "workspace": "~/ws",
                    },
                    "list": [{"id": "main"}],
                },
            }
        )
    )
    code, _, _ = run("openclaw", "--write", "--file", str(path), *OC_ARGS)
    assert code == 0
    ours = openclaw_fragment("anthropic-messages", BASE)
    assert json.loads(path.read_text()) == {
        "gateway": {"port": 18789},
        "models": {
            "mode": "merge",
            "providers": {
                "other": other,
                "kimi-gateway": ours["models"]["providers"]["kimi-gateway"],
            },
        },
        "agents": {
            "defaults": {
                "model": {"primary": "kimi-gateway/kimi-k2.5", "fallbacks": ["other/y"]},
                "workspace": "~/ws",
            },
            "list": [{"id": "main"}],
        },
    }


def test_openclaw_write_replaces_a_string_model_setting(tmp_path: Path) -> None:
    # OpenClaw also accepts `agents.defaults.model` as a bare "provider/model" string.
    path = tmp_path / "oc.json"
    path.write_text('{"agents": {"defaults": {"model": "other/x"}}}')
    assert run("openclaw", "--write", "--file", str(path), *OC_ARGS)[0] == 0
    assert json.loads(path.read_text())["agents"] == {
        "defaults": {"model": {"primary": "kimi-gateway/kimi-k2.5"}}
    }


def test_openclaw_write_leaves_json5_alone(tmp_path: Path) -> None:
    path = tmp_path / "oc.json"
    content = "{\n  // my gateway\n  gateway: { port: 18789 },\n}\n"
    path.write_text(content)
    code, out, err = run("openclaw", "--write", "--file", str(path), *OC_ARGS)
    assert (code, out) == (2, "")
    assert "not plain JSON" in err
    assert path.read_text() == content
