"""Upstream keys never leave the gateway: a sentinel Kimi key for each product, accepted by the
emulator (so every 200 proves it was used), driven through every flow — both dialects, every
upstream, streaming and not, Kimi errors before and during streams, upstream auth failures,
count_tokens, models, files, metrics, admin, health — then searched for in every response
(head and body), in the access log, in the server's log records and in the key database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

SENTINEL_PLATFORM = "sk-SENTINEL-platform-7f3a9c1e5b"
SENTINEL_CODE = "sk-kimi-SENTINEL-code-2d8e4b6a0c"
MASTER = "kgw-master-sentinel-test-000000"
ADMIN = {"authorization": f"Bearer {MASTER}"}
SECRETS = ("SENTINEL", SENTINEL_PLATFORM, SENTINEL_CODE)
ROUTES = {
    "p": {"upstream": "platform", "model": "kimi-k2.6"},
    "pa": {"upstream": "platform_anthropic", "model": "kimi-k2.6"},
    "co": {"upstream": "code_openai", "model": "kimi-for-coding"},
    "ca": {"upstream": "code_anthropic", "model": "kimi-for-coding"},
}
PROMPTS = ("@@text:plain@@", "@@error:429@@", "@@error:401@@", "@@cut@@", "@@error:500@@")


def _transcript(reply: httpx.Response) -> str:
    head = "\n".join(f"{k}: {v}" for k, v in reply.headers.items())
    return f"{reply.status_code}\n{head}\n\n{reply.text}"


def _flows(client: httpx.Client, gateway: Any) -> list[httpx.Response]:
    replies = []
    for alias in ROUTES:
        for prompt in PROMPTS:
            for stream in (False, True):
                messages = [{"role": "user", "content": prompt}]
                replies.append(
                    client.post(
                        "/v1/chat/completions",
                        json={"model": alias, "messages": messages, "stream": stream},
                    )
                )
                replies.append(
                    client.post(
                        "/v1/messages",
                        json={
                            "model": alias,
                            "max_tokens": 100,
                            "messages": messages,
                            "stream": stream,
                        },
                    )
                )
    count = {"model": "p", "messages": [{"role": "user", "content": "count me"}]}
    replies.append(client.post("/v1/messages/count_tokens", json=count))
    replies.append(client.post("/v1/messages/count_tokens", json={**count, "model": "ca"}))
    replies.append(client.get("/v1/models"))
    replies.append(client.get("/v1/models", headers={"anthropic-version": "2023-06-01"}))
    replies.append(client.get("/v1/models/p"))
    upload = client.post(
        "/v1/files",
        files={"file": ("a.txt", b"sentinel file text")},
        data={"purpose": "file-extract"},
    )
    replies.append(upload)
    file_id = upload.json()["id"]
    replies += [
        client.get("/v1/files"),
        client.get(f"/v1/files/{file_id}"),
        client.get(f"/v1/files/{file_id}/content"),
        client.delete(f"/v1/files/{file_id}"),
        client.get("/v1/files/nope"),
        client.get("/"),
        client.head("/"),
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/metrics"),
        client.get("/admin/keys", headers=ADMIN),
        client.post("/admin/keys", json={"name": "sentinel-check"}, headers=ADMIN),
        client.get("/no/such/route"),
    ]
    return replies


@pytest.fixture
def sentinel_gateway(kimi_emulator_factory: Any, gateway_factory: Any) -> Any:
    emulator = kimi_emulator_factory(
        platform_keys=[SENTINEL_PLATFORM], kimi_code_keys=[SENTINEL_CODE]
    )
    return gateway_factory(
        emulator=emulator,
        api_key=SENTINEL_PLATFORM,
        code_api_key=SENTINEL_CODE,
        routes=ROUTES,
        master_key=MASTER,
    )


def test_upstream_keys_never_leave_the_gateway(
    sentinel_gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = sentinel_gateway
    caplog.set_level(logging.DEBUG)
    made = httpx.post(gateway.url + "/admin/keys", json={"name": "client"}, headers=ADMIN)
    headers = {"authorization": f"Bearer {made.json()['key']}"}  # the master key is admin-only
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as client:
        replies = _flows(client, gateway)

    statuses = {reply.status_code for reply in replies}
    # success and failure flows ran (a stream cut before its end is a 502 on every face)
    assert {200, 201, 401, 404, 429, 502}.issubset(statuses)
    plain = [r for r in replies if r.request.url.path == "/v1/chat/completions"]
    assert plain[0].status_code == 200  # the emulator accepted the sentinel key
    for reply in replies:
        transcript = _transcript(reply)
        for secret in SECRETS:
            assert secret not in transcript, transcript[:2000]

    # the access log is written in batches off the request path: wait for the lines
    assert len(gateway.access_log(wait_for=len(replies) - 1)) >= len(replies) - 1
    access = Path(gateway.settings.access_log).read_text()
    database = (Path(gateway.settings.data_dir) / "kimi-gateway.db").read_bytes()
    records = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    for secret in SECRETS:
        assert secret not in access
        assert secret.encode() not in database
        assert secret not in records
