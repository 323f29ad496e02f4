"""Retries, fallbacks and the circuit breaker, through the gateway as a real server in front of
the emulator (a real server with seeded faults); counts are taken at the emulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_server import GatewayServer

from kimi_gateway.emulator.server import EmulatorServer

BODY: dict[str, Any] = {
    "model": "kimi-k2.6",
    "messages": [{"role": "user", "content": "@@text:Hello@@"}],
}
FAST_RETRY = {"base_delay": 0.01, "max_delay": 0.05}


def chat(gateway: GatewayServer, body: dict[str, Any] = BODY, **extra: Any) -> httpx.Response:
    return httpx.post(gateway.openai_url + "/chat/completions", json={**body, **extra}, timeout=30)


def generations(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].endswith(("/completions", "/messages"))]


def test_overload_429_is_retried_after_its_retry_after(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(
        faults=[{"kind": "engine_overloaded", "every": 2, "retry_after": 0}]
    )
    gateway = gateway_factory(emulator=emulator, reliability={"retry": FAST_RETRY})
    replies = [chat(gateway) for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert [r["status"] for r in generations(emulator)] == [200, 429, 200, 429, 200]
    lines = [line for line in gateway.access_log(wait_for=3) if line["route"] != "metrics"]
    assert [(line["status"], line.get("attempts", 1)) for line in lines] == [
        (200, 1),
        (200, 2),
        (200, 2),
    ]
    assert replies[1].headers["x-kimi-gateway-upstream-served"] == "platform"


@pytest.mark.parametrize(
    ("fault", "status"),
    [("quota", 429), ("content_filter", 400), ("payload_too_large", 413)],
)
def test_never_retried(
    gateway_factory: Any, kimi_emulator_factory: Any, fault: str, status: int
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": fault}])
    gateway = gateway_factory(emulator=emulator, reliability={"retry": FAST_RETRY})
    assert chat(gateway).status_code == status
    assert len(generations(emulator)) == 1


def test_server_errors_are_retried_up_to_max_attempts(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "server_error"}])
    gateway = gateway_factory(
        emulator=emulator,
        reliability={"retry": {**FAST_RETRY, "max_attempts": 3}, "breaker": {"enabled": False}},
    )
    reply = chat(gateway)
    assert reply.status_code == 500
    assert [r["status"] for r in generations(emulator)] == [500, 500, 500]
    metrics = httpx.get(gateway.url + "/metrics").text
    assert (
        'kimi_gateway_upstream_retries_total{reason="server_error",upstream="platform"} 2.0'
        in metrics
    )


def test_a_too_long_retry_after_is_not_waited_for(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "rate_limit", "retry_after": 60}])
    gateway = gateway_factory(emulator=emulator, reliability={"retry": FAST_RETRY})
    reply = chat(gateway)
    assert (reply.status_code, reply.headers["retry-after"]) == (429, "60")
    assert len(generations(emulator)) == 1


def test_a_stream_that_fails_before_content_is_retried(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    """A cut after the role chunk: nothing has reached the client, so it is tried again."""
    emulator = kimi_emulator_factory(faults=[{"kind": "cut", "every": 2, "after_chunks": 1}])
    gateway = gateway_factory(emulator=emulator, reliability={"retry": FAST_RETRY})
    chat(gateway)
    reply = chat(gateway, stream=True)
    assert reply.status_code == 200
    assert '"content":"Hello"' in reply.text
    assert reply.text.endswith("data: [DONE]\n\n")
    assert len(generations(emulator)) == 3


def test_empty_completion_is_retried_then_returned_as_is(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory()
    gateway = gateway_factory(
        emulator=emulator, reliability={"retry": {**FAST_RETRY, "max_attempts": 2}}
    )
    empty = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "@@text:@@"}]}
    reply = chat(gateway, empty)
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] in ("", None)
    assert len(generations(emulator)) == 2
    off = gateway_factory(emulator=emulator, reliability={"retry": {"empty_completion": False}})
    emulator.reset()
    assert chat(off, empty).status_code == 200
    assert len(generations(emulator)) == 1


FALLBACK = {"kimi-k2.6": [{"upstream": "code_openai", "model": "kimi-for-coding"}]}


def test_fallback_after_retries_fail(gateway_factory: Any, kimi_emulator_factory: Any) -> None:
    emulator = kimi_emulator_factory(
        faults=[{"kind": "server_unavailable", "path": "/v1/chat/completions"}]
    )
    gateway = gateway_factory(
        emulator=emulator,
        reliability={"retry": {**FAST_RETRY, "max_attempts": 2}, "fallbacks": FALLBACK},
    )
    reply = chat(gateway)
    assert reply.status_code == 200
    assert reply.headers["x-kimi-gateway-upstream-served"] == "code_openai"
    assert [(r["path"], r["status"]) for r in generations(emulator)] == [
        ("/v1/chat/completions", 503),
        ("/v1/chat/completions", 503),
        ("/coding/v1/chat/completions", 200),
    ]
    (line,) = [line for line in gateway.access_log(wait_for=1) if line["route"] != "metrics"]
    assert (line["upstream"], line["upstream_model"], line["attempts"]) == (
        "code_openai",
        "kimi-for-coding",
        3,
    )
    assert reply.json()["model"] == "kimi-k2.6"  # as the client asked (report_model)


def test_no_fallback_for_a_request_error(gateway_factory: Any, kimi_emulator_factory: Any) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "quota", "path": "/v1/chat/completions"}])
    gateway = gateway_factory(emulator=emulator, reliability={"fallbacks": FALLBACK})
    assert chat(gateway).status_code == 429
    assert len(generations(emulator)) == 1


def test_fallback_on_context_overflow(gateway_factory: Any, kimi_emulator: Any) -> None:
    """moonshot-v1-8k refuses a prompt over its window; the chain's kimi-k2.6 serves it."""
    gateway = gateway_factory(
        routes={"small": {"model": "moonshot-v1-8k"}},
        reliability={"fallbacks": {"small": [{"upstream": "platform", "model": "kimi-k2.6"}]}},
    )
    big = "@@text:ok@@ " + "word " * 9000
    reply = chat(gateway, {"model": "small", "messages": [{"role": "user", "content": big}]})
    assert reply.status_code == 200
    models = [(r["body"]["model"], r["status"]) for r in generations(kimi_emulator)]
    assert models == [("moonshot-v1-8k", 400), ("kimi-k2.6", 200)]


def test_breaker_opens_fails_fast_and_shows_in_readyz_and_metrics(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "server_error"}])
    breaker = {"min_calls": 2, "failure_ratio": 0.5, "open_seconds": 60}
    gateway = gateway_factory(
        emulator=emulator, reliability={"retry": {"enabled": False}, "breaker": breaker}
    )
    assert [chat(gateway).status_code for _ in range(2)] == [500, 500]
    refused = chat(gateway)
    assert refused.status_code == 503
    assert "stopped sending to it" in refused.json()["error"]["message"]
    assert len(generations(emulator)) == 2
    ready = httpx.get(gateway.url + "/readyz").json()
    assert ready["breakers"]["platform"] == "open"
    assert ready["breakers"]["code_openai"] == "closed"
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'kimi_gateway_breaker_state{upstream="platform"} 2.0' in metrics


def test_open_breaker_falls_back(gateway_factory: Any, kimi_emulator_factory: Any) -> None:
    emulator = kimi_emulator_factory(
        faults=[{"kind": "server_error", "path": "/v1/chat/completions"}]
    )
    gateway = gateway_factory(
        emulator=emulator,
        reliability={
            "retry": {"enabled": False},
            "breaker": {"min_calls": 1, "failure_ratio": 0.5, "open_seconds": 60},
            "fallbacks": FALLBACK,
        },
    )
    first, second = chat(gateway), chat(gateway)
    assert (first.status_code, second.status_code) == (200, 200)
    paths = [r["path"] for r in generations(emulator)]
    assert paths == [
        "/v1/chat/completions",  # fails and opens the breaker
        "/coding/v1/chat/completions",
        "/coding/v1/chat/completions",  # the platform is not even tried
    ]


def test_fallback_from_kimi_to_an_openai_compatible_host(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    """The Open Platform is down; a vLLM-like host serving Kimi's weights answers instead."""
    from vllm_like import VllmLike

    emulator = kimi_emulator_factory(
        faults=[
            {"kind": "server_unavailable", "path": "/v1/chat/completions", "model": "kimi-k2.6"}
        ]
    )
    healthy = kimi_emulator_factory()  # what the host runs on: not the failing platform
    with VllmLike(healthy.platform_url, "moonshotai/Kimi-K2-Instruct") as host:
        entry = {
            "name": "vllm",
            "kind": "openai_compatible",
            "base_url": host.openai_url,
            "models": {"kimi-local": "moonshotai/Kimi-K2-Instruct"},
            "options": {"preset": "vllm"},
        }
        gateway = gateway_factory(
            emulator=emulator,
            upstreams=[entry],
            reliability={
                "retry": {**FAST_RETRY, "max_attempts": 2},
                "fallbacks": {"kimi-k2.6": [{"upstream": "vllm", "model": "kimi-local"}]},
            },
        )
        reply = chat(gateway)
        assert reply.status_code == 200
        assert reply.headers["x-kimi-gateway-upstream-served"] == "vllm"
        assert reply.json()["choices"][0]["message"]["content"] == "Hello"
        assert [body["model"] for body in host.received] == ["moonshotai/Kimi-K2-Instruct"]
