"""Gateway keys end to end: optional auth on loopback, master key, admin API, keys made by the
CLI, config-file keys, per-key models, both header forms, and the refusal to listen on a
public address without keys."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from gateway_server import settings_for
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from sdk_turns import anthropic_from_message
from typer.testing import CliRunner

from kimi_gateway.cli.main import app as cli_app
from kimi_gateway.server.app import create_app

MASTER = "kgw-master-test-0123456789abcdef"
# One request, as JSON bodies and as SDK keyword arguments (the SDKs' own param types).
CHAT: CompletionCreateParamsNonStreaming = {
    "model": "kimi-k2.6",
    "messages": [{"role": "user", "content": "@@text:ok@@"}],
}
MESSAGE: MessageCreateParamsNonStreaming = {
    "model": "kimi-k2.6",
    "messages": [{"role": "user", "content": "@@text:ok@@"}],
    "max_tokens": 50,
}


def _chat(gateway: Any, **headers: str) -> httpx.Response:
    return httpx.post(gateway.openai_url + "/chat/completions", json=CHAT, headers=headers)


def _admin(gateway: Any, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {MASTER}"}
    return httpx.request(method, gateway.url + "/admin/keys" + path, headers=headers, **kwargs)


def test_auth_is_optional_on_loopback_without_keys(gateway_factory: Any) -> None:
    gateway = gateway_factory()
    assert _chat(gateway).status_code == 200
    assert _chat(gateway, authorization="Bearer anything").status_code == 200
    [line] = gateway.access_log(wait_for=2)[:1]
    assert line["key_id"] is None


def test_master_key_required_once_configured(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    missing = _chat(gateway)
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    wrong = httpx.post(gateway.url + "/v1/messages", json=MESSAGE, headers={"x-api-key": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "type": "error",
        "error": {
            "type": "authentication_error",
            "message": "a valid gateway key is required (Authorization: Bearer <key> or x-api-key)",
        },
    }
    key = _admin(gateway, "POST", json={"name": "client"}).json()["key"]
    assert _chat(gateway, authorization=f"Bearer {key}").status_code == 200
    assert _chat(gateway, **{"x-api-key": key}).status_code == 200
    assert _chat(gateway, authorization=f"Bearer {MASTER}").status_code == 403  # admin only
    assert gateway.emulator.requests()[0]["path"] == "/v1/chat/completions"
    assert len(gateway.emulator.requests()) == 2  # refused requests never reach Kimi


def test_admin_api_create_use_list_revoke(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    created = _admin(gateway, "POST", json={"name": "ci", "models": []})
    assert created.status_code == 201
    record = created.json()
    key = record.pop("key")
    assert key.startswith("kgw-")
    assert set(record) == {"id", "name", "models", "created_at", "revoked_at"}
    assert (record["name"], record["models"], record["revoked_at"]) == ("ci", [], None)
    assert record["id"].startswith("key_")

    oai = openai.OpenAI(base_url=gateway.openai_url, api_key=key, max_retries=0)
    assert oai.chat.completions.create(**CHAT).choices[0].message.content == "ok"
    ant = anthropic.Anthropic(base_url=gateway.url, api_key=key, max_retries=0)
    assert anthropic_from_message(ant.messages.create(**MESSAGE)).text == "ok"
    ant_token = anthropic.Anthropic(base_url=gateway.url, auth_token=key, max_retries=0)
    assert anthropic_from_message(ant_token.messages.create(**MESSAGE)).text == "ok"

    listed = _admin(gateway, "GET").json()["data"]
    assert [(k["id"], k["name"], k["revoked_at"]) for k in listed] == [(record["id"], "ci", None)]
    assert key not in str(listed)
    assert listed[0]["key"].endswith("…")

    lines = gateway.access_log(wait_for=4)
    assert [line["key_id"] for line in lines if line["route"] != "admin_keys"] == [record["id"]] * 3

    assert _admin(gateway, "DELETE", "/" + record["id"]).json() == {
        "id": record["id"],
        "revoked": True,
    }
    assert _chat(gateway, authorization=f"Bearer {key}").status_code == 401
    assert _admin(gateway, "DELETE", "/" + record["id"]).status_code == 404


def test_admin_api_needs_the_master_key(gateway_factory: Any) -> None:
    off = gateway_factory()
    reply = httpx.get(off.url + "/admin/keys")
    assert reply.status_code == 403
    assert "KIMI_GATEWAY_MASTER_KEY" in reply.json()["error"]["message"]
    on = gateway_factory(master_key=MASTER)
    created = _admin(on, "POST", json={"name": "user"}).json()
    as_user = httpx.get(on.url + "/admin/keys", headers={"x-api-key": created["key"]})
    assert as_user.status_code == 401


def test_per_key_allowed_models(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    key = _admin(gateway, "POST", json={"name": "small", "models": ["kimi-k2.5"]}).json()["key"]
    headers = {"authorization": f"Bearer {key}"}
    denied = httpx.post(gateway.openai_url + "/chat/completions", json=CHAT, headers=headers)
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        "message": "this gateway key may not use the model 'kimi-k2.6'",
        "type": "permission_error",
        "param": None,
        "code": None,
    }
    allowed = {**CHAT, "model": "kimi-k2.5"}
    ok = httpx.post(gateway.openai_url + "/chat/completions", json=allowed, headers=headers)
    assert ok.status_code == 200
    # A Claude alias that resolves to an allowed Kimi model is allowed too.
    haiku = {**MESSAGE, "model": "claude-haiku-4-5"}
    assert httpx.post(gateway.url + "/v1/messages", json=haiku, headers=headers).status_code == 200
    models = httpx.get(gateway.openai_url + "/models", headers=headers).json()["data"]
    assert [m["id"] for m in models] == ["kimi-k2.5"]


def test_config_file_keys(gateway_factory: Any) -> None:
    plain = "kgw-config-key-0123456789"
    digest = hashlib.sha256(plain.encode()).hexdigest()
    gateway = gateway_factory(keys=[{"name": "team", "key_sha256": digest, "models": []}])
    assert _chat(gateway).status_code == 401
    assert _chat(gateway, authorization=f"Bearer {plain}").status_code == 200
    assert gateway.access_log(wait_for=2)[-1]["key_id"] == "config:team"


def test_keys_cli_and_a_running_gateway(gateway_factory: Any, monkeypatch: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    monkeypatch.setenv("KIMI_GATEWAY_DATA_DIR", str(gateway.settings.data_dir))
    runner = CliRunner()
    made = runner.invoke(cli_app, ["keys", "create", "from-cli", "-m", "kimi-k2.6"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[0]
    assert key.startswith("kgw-")
    listed = runner.invoke(cli_app, ["keys", "list"])
    [row] = listed.stdout.strip().splitlines()
    key_id, _display, state, models, budgets, name = row.split("\t")
    assert (state, models, budgets, name) == ("active", "kimi-k2.6", "-", "from-cli")
    assert key not in listed.stdout
    assert _wait_status(gateway, key, 200)  # picked up within keys_refresh_seconds
    revoked = runner.invoke(cli_app, ["keys", "revoke", key_id])
    assert (revoked.exit_code, revoked.stdout.strip()) == (0, f"revoked {key_id}")
    assert _wait_status(gateway, key, 401)
    again = runner.invoke(cli_app, ["keys", "revoke", key_id])
    assert again.exit_code == 1


def _wait_status(gateway: Any, key: str, status: int) -> bool:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if _chat(gateway, authorization=f"Bearer {key}").status_code == status:
            return True
        time.sleep(0.05)
    return False


def test_key_store_keeps_only_hashes(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    key = _admin(gateway, "POST", json={"name": "h"}).json()["key"]
    database = Path(gateway.settings.data_dir) / "kimi-gateway.db"
    # WAL mode (ledger/db.py): recent writes sit in the -wal file until a checkpoint.
    files = (database, database.with_name(database.name + "-wal"))
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert key.encode() not in raw
    assert hashlib.sha256(key.encode()).hexdigest().encode() in raw


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env["KIMI_GATEWAY_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "kimi_gateway", "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "kimi-gateway: refusing to listen on 0.0.0.0 without gateway keys: anyone who can reach "
        "it could spend your Kimi credit. Create a key (`kimi-gateway keys create NAME`), set "
        "KIMI_GATEWAY_MASTER_KEY, or listen on 127.0.0.1."
    )


@pytest.mark.anyio
async def test_app_start_refuses_too(kimi_emulator: Any, tmp_path: Path, clean_env: None) -> None:
    """The same rule holds for an app built by create_app (defence in depth)."""
    settings = settings_for(kimi_emulator, tmp_path, host="0.0.0.0")
    app = create_app(settings)
    with pytest.raises(RuntimeError, match=r"refusing to listen on 0\.0\.0\.0"):
        await app.start()
    assert app.runtime is None
