"""`kimi-gateway setup codex`: the exact config.toml, --key-env, and how --write merges."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kimi_gateway.cli.codex_config import dumps
from kimi_gateway.cli.main import app
from kimi_gateway.settings import ENV_NAMES

BASE = "http://127.0.0.1:9000"
ARGS = ("--base-url", BASE, "--key", "kgw-secret", "--model", "kimi-k2.5")


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KIMI_GATEWAY_CONFIG", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["setup", "codex", *args])
    return result.exit_code, result.stdout, result.stderr


EXPECTED = (
    'model = "kimi-k2.5"\n'
    'model_provider = "kimi-gateway"\n'
    "model_context_window = 262144\n"
    "check_for_update_on_startup = false\n"
    "\n"
    "[model_providers.kimi-gateway]\n"
    'name = "kimi-gateway"\n'
    f'base_url = "{BASE}/v1"\n'
    'wire_api = "responses"\n'
    'experimental_bearer_token = "kgw-secret"\n'
    "\n"
    "[features]\n"
    "plugins = false\n"
    "\n"
    "[analytics]\n"
    "enabled = false\n"
)


def test_prints_the_config_toml() -> None:
    code, out, err = run(*ARGS)
    assert (code, out) == (0, EXPECTED)
    assert err == "kimi-gateway: merge this into ~/.codex/config.toml, or rerun with --write.\n"


def test_key_env_puts_the_key_in_the_environment_instead() -> None:
    code, out, err = run(*ARGS, "--key-env", "KGW_KEY")
    assert code == 0
    provider = tomllib.loads(out)["model_providers"]["kimi-gateway"]
    assert provider == {
        "name": "kimi-gateway",
        "base_url": f"{BASE}/v1",
        "wire_api": "responses",
        "env_key": "KGW_KEY",
    }
    assert "Codex reads the key from $KGW_KEY" in err


def test_write_creates_the_file_private(home: Path) -> None:
    code, out, _ = run(*ARGS, "--write")
    path = home / ".codex" / "config.toml"
    assert code == 0
    assert out == (
        "wrote model provider 'kimi-gateway' (wire_api responses, "
        f"{BASE}/v1), model 'kimi-k2.5' and the offline switches to {path}\n"
    )
    assert path.read_text() == EXPECTED
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_honours_codex_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "ch"))
    assert run(*ARGS, "--write")[0] == 0
    assert (tmp_path / "ch" / "config.toml").read_text() == EXPECTED


def test_write_merges_and_keeps_the_rest(home: Path) -> None:
    path = home / ".codex" / "config.toml"
    path.parent.mkdir()
    before: dict[str, Any] = {
        "model": "o3",
        "approval_policy": "never",
        "features": {"plugins": True, "web_search_request": True},
        "model_providers": {
            "kimi-gateway": {"name": "stale", "base_url": "http://old/v1", "env_key": "OLD"},
            "other": {"name": "other", "base_url": "http://x/v1", "wire_api": "responses"},
        },
        "mcp_servers": {"docs": {"command": "npx", "args": ["-y", "docs"]}},
    }
    path.write_text("# mine\n" + dumps(before))
    code, out, _ = run(*ARGS, "--write")
    assert code == 0
    assert out.startswith(f"kept the previous file as {path}.bak (comments are not carried over)\n")
    assert (path.parent / "config.toml.bak").read_text().startswith("# mine\n")
    assert tomllib.loads(path.read_text()) == {
        "model": "kimi-k2.5",
        "approval_policy": "never",
        "model_provider": "kimi-gateway",
        "model_context_window": 262144,
        "check_for_update_on_startup": False,
        "features": {"plugins": False, "web_search_request": True},
        "analytics": {"enabled": False},
        "model_providers": {
            "other": {"name": "other", "base_url": "http://x/v1", "wire_api": "responses"},
            "kimi-gateway": {
                "name": "kimi-gateway",
                "base_url": f"{BASE}/v1",
                "wire_api": "responses",
                "experimental_bearer_token": "kgw-secret",
            },
        },
        "mcp_servers": {"docs": {"command": "npx", "args": ["-y", "docs"]}},
    }


def test_write_refuses_a_file_that_is_not_toml(home: Path) -> None:
    path = home / ".codex" / "config.toml"
    path.parent.mkdir()
    path.write_text("model = \n")
    code, out, err = run(*ARGS, "--write")
    assert (code, out) == (2, "")
    assert "is not valid TOML" in err
    assert path.read_text() == "model = \n"


def test_dumps_round_trips_odd_names_and_arrays_of_tables() -> None:
    data: dict[str, Any] = {
        "model": 'odd"name',
        "a b": {"x.y": [1, 2.5, "z"], "inline": {"k": True}},
        "profiles": [{"name": "p1"}, {"name": "p2", "sub": {"deep": 1}}],
        "empty": {},
    }
    assert tomllib.loads(dumps(data)) == data
