"""The endpoints around generation: root, health, readiness, metrics, models (both shapes),
count_tokens backed by Kimi's estimate, and the Files API relayed to the Open Platform."""

from __future__ import annotations

import os
import resource
from typing import Any, cast

import anthropic
import httpx
import openai
import orjson
import pytest
from openai.types import FilePurpose


def test_root_health_ready(gateway: Any) -> None:
    root = httpx.get(gateway.url + "/")
    assert (root.status_code, root.json()) == (
        200,
        {"service": "kimi-gateway", "version": "0.1.0", "upstream": "kimi"},
    )
    head = httpx.head(gateway.url + "/")
    assert (head.status_code, head.content) == (200, b"")
    assert httpx.get(gateway.url + "/healthz").json() == {"status": "ok"}
    names = ["code_anthropic", "code_openai", "platform", "platform_anthropic"]
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]  # as the gateway raised it
    assert httpx.get(gateway.url + "/readyz").json() == {
        "status": "ready",
        "upstreams": names,
        "breakers": dict.fromkeys(names, "closed"),  # one per upstream (issue 12)
        "queues": {},  # no limits configured
        "upstream_pool": {"size": 1000, "waiting": 0},
        "open_files": {"limit": soft, "streams": (soft - 64) // 2},  # 2 per stream, 64 kept
        "pid": os.getpid(),  # the gateway runs in the test's process
    }
    assert root.headers["x-request-id"].startswith("req_")
    assert "x-kimi-gateway-upstream" not in root.headers  # a real upstream is configured


def test_metrics_count_requests_and_tokens(gateway_factory: Any) -> None:
    gateway = gateway_factory()
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "@@text:one two@@"}]}
    reply = httpx.post(gateway.openai_url + "/chat/completions", json=body).json()
    httpx.get(gateway.url + "/nope")
    text = httpx.get(gateway.url + "/metrics").text
    assert (
        'kimi_gateway_requests_total{route="chat_completions",status="200",upstream="platform"}'
        " 1.0" in text
    )
    assert 'kimi_gateway_requests_total{route="unknown",status="404",upstream="-"} 1.0' in text
    output = reply["usage"]["completion_tokens"]
    assert f'kimi_gateway_tokens_total{{kind="output",upstream="platform"}} {output:.1f}' in text


def test_models_openai_and_anthropic_shapes(gateway_factory: Any) -> None:
    gateway = gateway_factory(routes={"my-alias": {"model": "kimi-k2.5"}})
    oai = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    ids = [model.id for model in oai.models.list()]
    assert ids[0] == "my-alias"
    assert {"kimi-k2.6", "kimi-k3", "kimi-for-coding"}.issubset(ids)
    assert len(ids) == len(set(ids))
    assert oai.models.retrieve("kimi-k2.6").id == "kimi-k2.6"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("no-such-model")
    ant = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    listed = [model.id for model in ant.models.list()]
    assert listed == ids
    assert ant.models.retrieve("my-alias").display_name == "my-alias"
    # Cached: a second listing does not ask the upstreams again.
    before = len(gateway.emulator.requests())
    oai.models.list()
    assert len(gateway.emulator.requests()) == before


def test_count_tokens_is_kimis_estimate(gateway: Any) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    counted = client.messages.count_tokens(
        model="claude-sonnet-4-5",
        system="You are terse.",
        messages=[{"role": "user", "content": "How many tokens is this sentence?"}],
    )
    [upstream] = gateway.emulator.requests()
    assert (upstream["path"], upstream["body"]["model"]) == (
        "/v1/tokenizers/estimate-token-count",
        "kimi-k2.6",
    )
    direct = httpx.post(
        gateway.emulator.url + "/v1/tokenizers/estimate-token-count",
        json=upstream["body"],
        headers={"authorization": "Bearer sk-direct"},
    ).json()
    assert counted.input_tokens == direct["data"]["total_tokens"]
    assert counted.input_tokens > 10


def test_count_tokens_without_an_estimate_endpoint_is_an_error(gateway: Any) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.count_tokens(
            model="kimi-for-coding", messages=[{"role": "user", "content": "hi"}]
        )
    assert "no token estimate endpoint" in str(caught.value)
    assert gateway.emulator.requests() == []


def test_files_relay_round_trip(gateway: Any) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)
    # Kimi's purpose for files whose text is extracted; the SDK's Literal does not name it.
    purpose = cast(FilePurpose, "file-extract")
    created = client.files.create(
        file=("notes.txt", b"The answer is 42.", "text/plain"), purpose=purpose
    )
    assert (created.filename, created.bytes, created.purpose) == (
        "notes.txt",
        17,
        "file-extract",
    )
    assert [f.id for f in client.files.list()] == [created.id]
    assert client.files.retrieve(created.id).id == created.id
    content = orjson.loads(client.files.content(created.id).text)
    assert (content["content"], content["filename"]) == ("The answer is 42.", "notes.txt")
    assert client.files.delete(created.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    paths = [entry["path"] for entry in gateway.emulator.requests()]
    assert paths[:2] == ["/v1/files", "/v1/files"]


def test_files_need_an_open_platform_key(gateway_factory: Any) -> None:
    gateway = gateway_factory(api_key=None)
    reply = httpx.get(gateway.openai_url + "/files")
    assert reply.status_code == 404
    assert reply.json()["error"]["message"] == (
        "the Files API needs an Open Platform key (KIMI_API_KEY); none is set"
    )


def test_claude_code_style_request_beta_query_and_unknown_betas(gateway: Any) -> None:
    reply = httpx.post(
        gateway.url + "/v1/messages?beta=true",
        json={
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "@@text:beta ok@@"}],
        },
        headers={
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,made-up-1",
            "anthropic-version": "2023-06-01",
            "x-api-key": "whatever",
        },
    )
    assert reply.status_code == 200
    assert [b["text"] for b in reply.json()["content"] if b["type"] == "text"] == ["beta ok"]
    [upstream] = gateway.emulator.requests()
    assert "anthropic-beta" not in upstream["headers"]
    assert upstream["query"] == ""


def test_diagnostics_header_and_access_log(gateway_factory: Any) -> None:
    gateway = gateway_factory(anthropic_route="translate")
    reply = httpx.post(
        gateway.url + "/v1/messages",
        json={
            "model": "kimi-k2.6",
            "max_tokens": 100,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "messages": [{"role": "user", "content": "@@text:noted@@"}],
        },
    )
    assert reply.status_code == 200
    header = reply.headers["x-kimi-gateway-diagnostics"]
    assert header.startswith('changed_thinking;detail="budget_tokens=2048')
    [line] = gateway.access_log(wait_for=1)
    usage = reply.json()["usage"]
    assert line == {
        "ts": line["ts"],
        "request_id": reply.headers["x-request-id"],
        "key_id": None,
        "method": "POST",
        "route": "messages",
        "model": "kimi-k2.6",
        "upstream": "platform",
        "upstream_model": "kimi-k2.6",
        "upstream_request_id": reply.headers["x-kimi-request-id"],
        "stream": False,
        "status": 200,
        "latency_ms": line["latency_ms"],
        "tokens": {
            "input": usage["input_tokens"] + usage["cache_read_input_tokens"],
            "cached": usage["cache_read_input_tokens"],
            "output": usage["output_tokens"],
        },
        "diagnostics": [line["diagnostics"][0]],
    }
    assert line["diagnostics"][0].startswith("changed_thinking: budget_tokens=2048")
    assert line["latency_ms"] > 0
    assert len(line["upstream_request_id"]) >= 8


def test_reply_losses_reach_the_diagnostics_header(gateway_factory: Any) -> None:
    # Kimi (OpenAI face) returns tool arguments that are not a JSON object; an Anthropic
    # tool_use needs an object, so the reply changes — and the header says so (issue 3 §4).
    gateway = gateway_factory(anthropic_route="translate")
    reply = httpx.post(
        gateway.url + "/v1/messages",
        json={
            "model": "kimi-k2.6",
            "max_tokens": 100,
            "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": "@@tool:lookup [1, 2]@@"}],
        },
    )
    assert reply.status_code == 200
    [call] = [b for b in reply.json()["content"] if b["type"] == "tool_use"]
    assert call["input"] == {"_raw": "[1, 2]"}
    assert reply.headers["x-kimi-gateway-diagnostics"].startswith("invalid_tool_arguments;")
