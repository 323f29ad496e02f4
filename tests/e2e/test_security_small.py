"""The smaller findings of issue 10 item 7, through a running gateway: key names, the JSON
Content-Type, who may read /, /healthz, /readyz and /metrics, and /v1/models bounded by the
timeout settings. (The master key on generation routes: test_security_auth.py; count_tokens'
tool cap: test_security_limits.py.)"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, insert
from typer.testing import CliRunner

from kimi_gateway.cli.main import app as cli_app
from kimi_gateway.ledger.keys import gateway_keys

MASTER = "kgw-master-small-0123456789"
ADMIN = {"authorization": f"Bearer {MASTER}"}
CHAT = orjson.dumps(
    {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "@@text:ok@@"}]}
)


# --- key names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("evil\r\nkey_fake\tkgw-x\tactive", "must not contain control characters"),
        ("tab\there", "must not contain control characters"),
        ("line\u2028break", "must not contain control characters"),
        ("x" * 101, "is at most 100 characters (this one has 101)"),
        ("   ", "must not be empty"),
    ],
)
def test_the_admin_api_refuses_bad_key_names(gateway_factory: Any, name: str, message: str) -> None:
    gateway = gateway_factory(master_key=MASTER)
    reply = httpx.post(gateway.url + "/admin/keys", json={"name": name}, headers=ADMIN)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["param"], error["type"]) == ("name", "invalid_request_error")
    assert error["message"].startswith("name: a key name ")
    assert message in error["message"]
    assert httpx.get(gateway.url + "/admin/keys", headers=ADMIN).json()["data"] == []


def test_the_cli_refuses_bad_key_names_and_lists_old_ones_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    monkeypatch.setenv("KIMI_GATEWAY_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["keys", "create", "two\nlines"])
    assert refused.exit_code == 2
    assert "must not contain control characters" in refused.output
    long = runner.invoke(cli_app, ["keys", "create", "n" * 101])
    assert long.exit_code == 2
    assert runner.invoke(cli_app, ["keys", "create", "fine name"]).exit_code == 0
    # A row written before names were checked is printed on one line, its controls escaped.
    engine = create_engine(f"sqlite:///{tmp_path / 'kimi-gateway.db'}")
    with engine.begin() as conn:
        conn.execute(
            insert(gateway_keys).values(
                id="key_old",
                name="old\nkey_forged\tkgw-zz\tactive",
                key_sha256="0" * 64,
                display="kgw-old…",
                models="[]",
                created_at=time.time() + 1,
            )
        )
    engine.dispose()
    listed = runner.invoke(cli_app, ["keys", "list"]).stdout.strip().splitlines()
    assert [line.split("\t")[-1] for line in listed] == [
        "fine name",
        "old\\u000akey_forged\\u0009kgw-zz\\u0009active",
    ]


def test_config_file_key_names_are_checked(tmp_path: Path, clean_env: None) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text('keys:\n  - {name: "a\\nb", key_sha256: "' + "0" * 64 + '"}\n')
    runner = CliRunner()
    done = runner.invoke(cli_app, ["keys", "list", "--config", str(config)])
    assert done.exit_code == 2
    assert "keys.0.name" in done.output


# --- Content-Type on JSON routes --------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"]
)
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_json_routes_need_a_json_content_type(
    gateway: Any, path: str, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    reply = httpx.post(gateway.url + path, content=CHAT, headers=headers)
    assert reply.status_code == 415
    shown = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    message = (
        "this endpoint takes a JSON body (Content-Type: application/json); the request has " + shown
    )
    body = reply.json()
    if path.startswith("/v1/messages"):
        assert body == {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
        }
    else:
        assert body["error"]["message"] == message
    assert gateway.emulator.requests() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.kimi+json",
    ],
)
def test_json_content_types_are_accepted(gateway: Any, content_type: str) -> None:
    reply = httpx.post(
        gateway.openai_url + "/chat/completions",
        content=CHAT,
        headers={"content-type": content_type},
    )
    assert reply.status_code == 200


def test_the_content_type_check_can_be_turned_off(gateway_pool: Any, kimi_emulator: Any) -> None:
    gateway = gateway_pool.get(security={"requests": {"require_json_content_type": False}})
    assert httpx.post(gateway.openai_url + "/chat/completions", content=CHAT).status_code == 200


def test_the_admin_api_needs_json_too(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    reply = httpx.post(
        gateway.url + "/admin/keys",
        content=b'{"name": "x"}',
        headers={**ADMIN, "content-type": "text/plain"},
    )
    assert reply.status_code == 415


# --- /, /healthz, /readyz, /metrics -----------------------------------------------------------


def _client_key(gateway: Any) -> str:
    return str(
        httpx.post(gateway.url + "/admin/keys", json={"name": "c"}, headers=ADMIN).json()["key"]
    )


def test_by_default_probes_are_open_and_metrics_need_a_key(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    key = {"authorization": f"Bearer {_client_key(gateway)}"}
    for path in ("/", "/healthz", "/readyz"):
        assert httpx.get(gateway.url + path).status_code == 200
    assert httpx.head(gateway.url + "/").status_code == 200
    refused = httpx.get(gateway.url + "/metrics")
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"
    assert "kimi_gateway_requests_total" in httpx.get(gateway.url + "/metrics", headers=key).text
    assert httpx.get(gateway.url + "/metrics", headers=ADMIN).status_code == 200


def test_endpoint_access_is_a_setting(gateway_factory: Any) -> None:
    endpoints = {"root": "key", "healthz": "open", "readyz": "admin", "metrics": "open"}
    gateway = gateway_factory(master_key=MASTER, security={"endpoints": endpoints})
    key = {"authorization": f"Bearer {_client_key(gateway)}"}
    assert httpx.get(gateway.url + "/").status_code == 401
    assert httpx.head(gateway.url + "/").status_code == 401
    assert httpx.get(gateway.url + "/", headers=key).status_code == 200
    assert httpx.get(gateway.url + "/readyz", headers=key).status_code == 401
    assert httpx.get(gateway.url + "/readyz", headers=ADMIN).status_code == 200
    assert httpx.get(gateway.url + "/metrics").status_code == 200
    assert httpx.get(gateway.url + "/healthz").status_code == 200


def test_admin_only_endpoints_without_a_master_key_are_off(gateway_factory: Any) -> None:
    gateway = gateway_factory(security={"endpoints": {"metrics": "admin"}})
    reply = httpx.get(gateway.url + "/metrics")
    assert reply.status_code == 403
    assert "KIMI_GATEWAY_MASTER_KEY" in reply.json()["error"]["message"]


# --- /v1/models and the timeout settings ------------------------------------------------------


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for sock in held:
        sock.close()
    server.close()


def test_models_honour_the_first_byte_timeout(gateway_factory: Any, black_hole: int) -> None:
    gateway = gateway_factory(
        base_url=f"http://127.0.0.1:{black_hole}/v1",
        anthropic_base_url=f"http://127.0.0.1:{black_hole}/anthropic",
        code_api_key=None,
        first_byte_timeout=0.5,
    )
    started = time.monotonic()
    reply = httpx.get(gateway.openai_url + "/models", timeout=30)
    took = time.monotonic() - started
    assert reply.status_code == 200
    assert "kimi-k2.6" in [m["id"] for m in reply.json()["data"]]  # the profile table's names
    assert took < 3  # was a fixed 10 s whatever the settings said
