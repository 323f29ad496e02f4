"""Fault injection and tier rate limits by config, seeded (docs/kimi.md §2.2, §3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .conftest import consume, drain

HI = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "hi"}]}
Factory = Callable[..., EmulatorServer]


def _raw(server: EmulatorServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"authorization": "Bearer sk-x"}, timeout=10)


def _statuses(
    server: EmulatorServer,
    count: int,
    body: dict[str, Any] = HI,
    path: str = "/v1/chat/completions",
) -> list[int]:
    with _raw(server) as raw:
        return [raw.post(path, json=body).status_code for _ in range(count)]


ERROR_KINDS = [
    (
        "engine_overloaded",
        429,
        {
            "error": {
                "type": "engine_overloaded_error",
                "message": "The engine is currently overloaded, please try again later",
            }
        },
        "3",
    ),
    (
        "rate_limit",
        429,
        {
            "error": {
                "type": "rate_limit_reached_error",
                "message": "Your account emulator-user<ak-emulator> request reached max "
                "request: 3, please try again after 3 seconds",
            }
        },
        "3",
    ),
    (
        "quota",
        429,
        {
            "error": {
                "type": "exceeded_current_quota_error",
                "message": "You exceeded your current token quota: 100, please check your "
                "account balance",
            }
        },
        None,
    ),
    (
        "server_error",
        500,
        {
            "error": {
                "type": "server_error",
                "message": "Internal server error, please try again later",
            }
        },
        None,
    ),
    (
        "server_unavailable",
        503,
        {
            "error": {
                "type": "server_unavailable",
                "message": "The service is temporarily unavailable, please try again later",
            }
        },
        None,
    ),
    (
        "content_filter",
        400,
        {
            "error": {
                "type": "content_filter",
                "message": "The request was rejected because it was considered high risk",
            }
        },
        None,
    ),
    ("payload_too_large", 413, {"error": {"message": "Request exceeds the maximum size"}}, None),
]


@pytest.mark.parametrize(
    ("kind", "status", "body", "retry_after"), ERROR_KINDS, ids=[k[0] for k in ERROR_KINDS]
)
def test_error_faults(
    kimi_emulator_factory: Factory, kind: str, status: int, body: Any, retry_after: str | None
) -> None:
    server = kimi_emulator_factory(faults=[{"kind": kind, "retry_after": 3}])
    with _raw(server) as raw:
        response = raw.post("/v1/chat/completions", json=HI)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers.get("retry-after") == retry_after
    assert response.headers.get("x-retry-after") == retry_after


def test_gateway_timeout_is_html(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(faults=[{"kind": "gateway_timeout"}])
    with _raw(server) as raw:
        response = raw.post("/v1/chat/completions", json=HI)
    assert response.status_code == 504
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>504 Gateway Time-out</title>" in response.text


def test_every_nth_request(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(faults=[{"kind": "server_error", "every": 3}])
    assert _statuses(server, 7) == [200, 200, 500, 200, 200, 500, 200]


def test_probability_is_seeded(kimi_emulator_factory: Factory) -> None:
    config = {"seed": 7, "faults": [{"kind": "server_unavailable", "probability": 0.5}]}
    first = _statuses(kimi_emulator_factory(config), 12)
    second = _statuses(kimi_emulator_factory(config), 12)
    assert first == second
    assert set(first) == {200, 503}


def test_path_and_model_filters(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(
        faults=[{"kind": "server_error", "path": "/coding/", "model": "kimi-for-coding"}]
    )
    assert _statuses(server, 1) == [200]
    coding = {**HI, "model": "kimi-for-coding"}
    with httpx.Client(base_url=server.url, headers={"authorization": "Bearer sk-kimi-x"}) as raw:
        assert raw.post("/coding/v1/chat/completions", json=coding).status_code == 500
        assert (
            raw.post("/coding/v1/chat/completions", json={**HI, "model": "k3"}).status_code == 200
        )


def test_slow_first_byte_and_slow_chunks(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(
        faults=[
            {"kind": "slow_first_byte", "delay_ms": 120},
            {"kind": "slow_chunks", "delay_ms": 30},
        ]
    )
    body = {**HI, "messages": [{"role": "user", "content": "@@text:a b c@@"}], "stream": True}
    with _raw(server) as raw:
        started = time.monotonic()
        with raw.stream("POST", "/v1/chat/completions", json=body) as response:
            stamps = []
            for _ in response.iter_lines():
                stamps.append(time.monotonic() - started)
    assert stamps[0] >= 0.12
    # Lower bounds only (a loaded machine may read late, never early): the last line cannot
    # arrive before the first-byte delay plus the five gaps (role, 3 pieces, final, [DONE]).
    assert stamps[-1] >= 0.12 + 0.03 * 5


def test_cut_fault_after_chunks(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(faults=[{"kind": "cut", "after_chunks": 3}])
    received: list[bytes] = []
    with _raw(server) as raw, pytest.raises(httpx.RemoteProtocolError):
        drain(raw, "/v1/chat/completions", {**HI, "stream": True}, received)
    assert b"".join(received).count(b"data: ") == 3


def test_content_filter_mid_stream(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(faults=[{"kind": "content_filter_mid", "after_chunks": 2}])
    client = openai.OpenAI(base_url=server.platform_url, api_key="sk-x", max_retries=0)
    stream = client.chat.completions.create(
        model="moonshot-v1-8k", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    seen: list[Any] = []
    with pytest.raises(openai.APIError) as caught:
        consume(stream, seen)
    assert [chunk.choices[0].delta.content for chunk in seen] == ["", "Hello"]
    assert caught.value.message == "The request was rejected because it was considered high risk"
    with _raw(server) as raw:  # without streaming the whole reply is refused
        response = raw.post("/v1/chat/completions", json=HI)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "content_filter"


def _limited(factory: Factory, **limits: Any) -> EmulatorServer:
    return factory(limits={"uid": "u1", "ak_id": "ak-1", **limits})


def test_rpm_limit(kimi_emulator_factory: Factory) -> None:
    server = _limited(kimi_emulator_factory, rpm=2)
    with _raw(server) as raw:
        assert [raw.post("/v1/chat/completions", json=HI).status_code for _ in range(2)] == [
            200,
            200,
        ]
        response = raw.post("/v1/chat/completions", json=HI)
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "type": "rate_limit_reached_error",
            "message": "Your account u1<ak-1> request reached max request: 2, please try "
            "again after 60 seconds",
        }
    }
    assert response.headers["retry-after"] == "60"


def test_tpm_counts_prompt_plus_max_tokens(kimi_emulator_factory: Factory) -> None:
    server = _limited(kimi_emulator_factory, tpm=1000)
    with _raw(server) as raw:
        assert raw.post("/v1/chat/completions", json={**HI, "max_tokens": 900}).status_code == 200
        response = raw.post("/v1/chat/completions", json={**HI, "max_tokens": 100})
    prompt = 9
    assert response.json()["error"]["message"] == (
        f"Your account u1<ak-1> request reached TPM rate limit, current:{900 + 100 + 2 * prompt}, "
        "limit:1000"
    )


def test_tpd_uses_default_max_tokens(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(limits={"tpd": 40_000}, default_max_tokens=30_000)
    statuses = _statuses(server, 2)
    assert statuses == [200, 429]
    with _raw(server) as raw:
        message = raw.post("/v1/chat/completions", json=HI).json()["error"]["message"]
    assert message == (
        "Your account emulator-user<ak-emulator> request reached TPD rate limit,current:60018, "
        "limit:40000"
    )


def test_concurrency_limit(kimi_emulator_factory: Factory) -> None:
    server = _limited(kimi_emulator_factory, concurrency=1)
    slow = {**HI, "messages": [{"role": "user", "content": "@@delay:400@@"}]}
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.extend(_statuses(server, 1, slow)))
    worker.start()
    time.sleep(0.15)
    with _raw(server) as raw:
        response = raw.post("/v1/chat/completions", json=HI)
    worker.join()
    assert results == [200]
    assert response.status_code == 429
    assert response.json()["error"]["message"] == (
        "Your account u1<ak-1> request reached max concurrency: 1, please try again after 1 seconds"
    )
    assert _statuses(server, 1) == [200]  # the slot is free again


def test_organization_wording(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(limits={"rpm": 1, "wording": "organization"})
    with _raw(server) as raw:
        raw.post("/v1/chat/completions", json=HI)
        response = raw.post("/v1/chat/completions", json=HI)
    assert response.json()["error"] == {
        "type": "rate_limit_reached_error",
        "message": "Organization Rate limit exceeded, please try again after 60 seconds",
    }


def test_failed_requests_are_not_billed(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(faults=[{"kind": "engine_overloaded"}])
    _statuses(server, 3)
    with _raw(server) as raw:
        balance = raw.get("/v1/users/me/balance").json()["data"]["available_balance"]
    assert balance == 100.0


def test_path_rules_reach_other_endpoints(kimi_emulator_factory: Factory) -> None:
    server = kimi_emulator_factory(
        faults=[{"kind": "server_unavailable", "path": "/v1/files"}, {"kind": "server_error"}]
    )
    with _raw(server) as raw:
        files = raw.get("/v1/files")
        models = raw.get("/v1/models")  # the path-less rule only hits generation endpoints
        chat = raw.post("/v1/chat/completions", json=HI)
    assert (files.status_code, files.json()["error"]["type"]) == (503, "server_unavailable")
    assert (models.status_code, chat.status_code) == (200, 500)
