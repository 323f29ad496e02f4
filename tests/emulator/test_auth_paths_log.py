"""Authentication, nginx-style 404s, response headers, the request log and control endpoints."""

from __future__ import annotations

import re
from typing import Any

import httpx
import openai
import pytest

from kimi_gateway.emulator.errors import nginx_page
from kimi_gateway.emulator.server import EmulatorServer

from .conftest import HI, PLATFORM_KEY


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, {"type": "incorrect_api_key_error", "message": "Incorrect API key provided"}),
        (
            {"authorization": "Bearer"},
            401,
            {"type": "incorrect_api_key_error", "message": "Incorrect API key provided"},
        ),
        (
            {"authorization": "Bearer not-a-key"},
            401,
            {"type": "invalid_authentication_error", "message": "Invalid Authentication"},
        ),
        ({"x-api-key": PLATFORM_KEY}, 200, None),
    ],
)
def test_platform_auth(
    kimi_emulator: EmulatorServer, headers: dict[str, str], status: int, error: Any
) -> None:
    for method, path in (
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/v1/users/me/balance"),
    ):
        body = {"model": "kimi-k2.6", "messages": HI} if method == "POST" else None
        response = httpx.request(method, kimi_emulator.url + path, json=body, headers=headers)
        assert response.status_code == status, path
        if error is not None:
            assert response.json() == {"error": error}


def test_sdk_authentication_error(kimi_emulator: EmulatorServer) -> None:
    client = openai.OpenAI(base_url=kimi_emulator.platform_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert caught.value.body == {
        "type": "invalid_authentication_error",
        "message": "Invalid Authentication",
    }


def test_explicit_key_lists(kimi_emulator_factory: Any) -> None:
    server: EmulatorServer = kimi_emulator_factory(
        platform_keys=["sk-only"], kimi_code_keys=["sk-kimi-only"]
    )

    def post(path: str, key: str, model: str) -> int:
        body = {"model": model, "messages": HI}
        headers = {"authorization": f"Bearer {key}"}
        return httpx.post(server.url + path, json=body, headers=headers).status_code

    assert post("/v1/chat/completions", "sk-only", "kimi-k2.6") == 200
    assert post("/v1/chat/completions", "sk-other", "kimi-k2.6") == 401
    assert post("/coding/v1/chat/completions", "sk-kimi-only", "k3") == 200
    assert post("/coding/v1/chat/completions", "sk-kimi-other", "k3") == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/v1/chat/completions"),
        ("POST", "/coding/v1/v1/messages"),
        ("POST", "/coding/messages"),
        ("GET", "/v1/nothing"),
        ("GET", "/"),
        ("GET", "/v1/chat/completions"),
    ],
)
def test_unknown_paths_get_nginx_404(kimi_emulator: EmulatorServer, method: str, path: str) -> None:
    response = httpx.request(
        method, kimi_emulator.url + path, headers={"authorization": f"Bearer {PLATFORM_KEY}"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["server"] == "nginx"
    assert response.content == nginx_page(404)
    assert b"<center><h1>404 Not Found</h1></center>" in response.content


def test_sdk_with_doubled_v1_gets_not_found(kimi_emulator: EmulatorServer) -> None:
    client = openai.OpenAI(
        base_url=kimi_emulator.url + "/v1/v1", api_key=PLATFORM_KEY, max_retries=0
    )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="kimi-k2.6", messages=HI)


def test_request_id_header(raw: httpx.Client) -> None:
    first = raw.get("/v1/models").headers["msh-request-id"]
    second = raw.get("/v1/models").headers["msh-request-id"]
    assert re.fullmatch(r"[0-9a-f]{8}", first)  # §14 [3M]: Kimi's one captured id is 8 hex
    assert first != second


def test_request_log_redacts_and_records(
    kimi_emulator: EmulatorServer, client: openai.OpenAI
) -> None:
    client.chat.completions.create(
        model="kimi-k2.6", messages=HI, extra_body={"thinking": {"type": "disabled"}}
    )
    httpx.get(kimi_emulator.url + "/v1/models?limit=2", headers={"x-api-key": "sk-secret"})
    log = kimi_emulator.requests()
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in log] == [
        ("POST", "/v1/chat/completions", "", 200),
        ("GET", "/v1/models", "limit=2", 200),
    ]
    assert log[0]["body"] == {
        "model": "kimi-k2.6",
        "messages": HI,
        "thinking": {"type": "disabled"},
    }
    assert log[0]["headers"]["authorization"] == "***"
    assert log[1]["headers"]["x-api-key"] == "***"
    assert log[1]["body"] is None
    assert PLATFORM_KEY not in repr(log)
    assert "sk-secret" not in repr(log)


def test_control_endpoints(kimi_emulator: EmulatorServer, raw: httpx.Client) -> None:
    raw.post("/v1/chat/completions", json={"model": "kimi-k2.6", "messages": HI})
    remote = httpx.get(kimi_emulator.url + "/_emulator/requests").json()
    assert [(e["path"], e["headers"]["authorization"]) for e in remote] == [
        ("/v1/chat/completions", "***")
    ]
    assert raw.get("/v1/users/me/balance").json()["data"]["available_balance"] < 100
    assert httpx.post(kimi_emulator.url + "/_emulator/reset").json() == {"reset": True}
    assert httpx.get(kimi_emulator.url + "/_emulator/requests").json() == []
    assert raw.get("/v1/users/me/balance").json()["data"]["available_balance"] == 100.0


def test_fixture_resets_between_tests_part_one(
    kimi_emulator: EmulatorServer, raw: httpx.Client
) -> None:
    kimi_emulator.reconfigure(
        kimi_emulator.config.model_copy(update={"require_coding_agent_ua": True})
    )
    raw.get("/v1/models")
    assert len(kimi_emulator.requests()) == 1


def test_fixture_resets_between_tests_part_two(kimi_emulator: EmulatorServer) -> None:
    assert kimi_emulator.requests() == []
    assert kimi_emulator.config.require_coding_agent_ua is False
