"""Kimi-tier limits in the gateway (issue 12 item 4): requests over a limit wait in a fair
per-key queue instead of collecting Kimi's 429s; a deadline that cannot be met is a clear 429
with Retry-After in the caller's dialect; past the queue depth, 503 at once. Counted at the
emulator, which enforces the same limits as Kimi."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

KEY_A, KEY_B = "kgw-test-key-a-0123456789", "kgw-test-key-b-0123456789"
KEYS = [{"name": "a", "key": KEY_A}, {"name": "b", "key": KEY_B}]


def chat(gateway: Any, text: str, key: str = KEY_A, **extra: Any) -> httpx.Response:
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": text}], **extra}
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(
        gateway.openai_url + "/chat/completions", json=body, headers=headers, timeout=30
    )


def statuses(emulator: Any) -> list[int]:
    return [r["status"] for r in emulator.requests() if r["path"].endswith("/completions")]


def limits(**fields: Any) -> dict[str, Any]:
    return {"limits": fields}


def test_concurrency_limit_queues_instead_of_429(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(limits={"concurrency": 1})
    gateway = gateway_factory(
        emulator=emulator,
        keys=KEYS,
        reliability=limits(accounts={"platform": {"concurrency": 1}}),
    )
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda i: chat(gateway, f"@@delay:150@@@@text:{i}@@"), range(6)))
    assert [r.status_code for r in replies] == [200] * 6
    assert statuses(emulator) == [200] * 6  # not one 429 at the emulator
    key = {"authorization": f"Bearer {KEY_A}"}  # /metrics needs a key (security.endpoints)
    metrics = httpx.get(gateway.url + "/metrics", headers=key).text
    assert 'kimi_gateway_queue_waits_total{account="platform"}' in metrics


def test_a_deadline_that_cannot_be_met_is_a_429_in_the_callers_dialect(
    gateway_factory: Any, kimi_emulator: Any
) -> None:
    gateway = gateway_factory(
        keys=KEYS,
        reliability=limits(accounts={"platform": {"rpm": 2}}, max_queue_wait=2),
    )
    assert [chat(gateway, "@@text:x@@").status_code for _ in range(2)] == [200, 200]
    refused = chat(gateway, "@@text:x@@")
    assert refused.status_code == 429
    assert 55 <= int(refused.headers["retry-after"]) <= 62
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert "at its limits" in refused.json()["error"]["message"]
    anthropic = httpx.post(
        gateway.url + "/v1/messages",
        json={
            "model": "kimi-k2.6",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "x"}],
        },
        headers={"x-api-key": KEY_A},
    )
    assert anthropic.status_code == 429
    assert anthropic.json()["type"] == "error"
    assert anthropic.json()["error"]["type"] == "rate_limit_error"
    assert "retry-after" in anthropic.headers
    assert len(statuses(kimi_emulator)) == 2  # the platform never saw the refused ones


def test_tier_by_name(gateway_factory: Any, kimi_emulator: Any) -> None:
    """The free tier's RPM is 3 (docs/kimi.md §3)."""
    gateway = gateway_factory(
        keys=KEYS, reliability=limits(accounts={"platform": {"tier": "free"}}, max_queue_wait=1)
    )
    codes = [chat(gateway, "@@text:x@@", max_tokens=10).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_tokens_count_prompt_plus_max_tokens(gateway_factory: Any, kimi_emulator: Any) -> None:
    gateway = gateway_factory(
        keys=KEYS, reliability=limits(accounts={"platform": {"tpm": 3000}}, max_queue_wait=1)
    )
    assert chat(gateway, "@@text:x@@", max_tokens=1000).status_code == 200
    assert chat(gateway, "@@text:x@@", max_tokens=1000).status_code == 200
    assert chat(gateway, "@@text:x@@", max_tokens=1000).status_code == 429
    assert chat(gateway, "@@text:x@@", max_tokens=100).status_code == 200


def test_load_shedding_past_the_queue_depth(gateway_factory: Any, kimi_emulator: Any) -> None:
    gateway = gateway_factory(
        keys=KEYS,
        reliability=limits(accounts={"platform": {"concurrency": 1}}, max_queue_depth=1),
    )
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda i: chat(gateway, "@@delay:500@@@@text:x@@"), range(3)))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 200, 503]
    shed = next(r for r in replies if r.status_code == 503)
    assert "queue" in shed.json()["error"]["message"]
    assert shed.headers["retry-after"] == "1"


def test_per_key_limits_leave_other_keys_alone(gateway_factory: Any, kimi_emulator: Any) -> None:
    gateway = gateway_factory(keys=KEYS, reliability=limits(keys={"rpm": 1}, max_queue_wait=1))
    assert chat(gateway, "@@text:x@@", KEY_A).status_code == 200
    assert chat(gateway, "@@text:x@@", KEY_A).status_code == 429
    assert chat(gateway, "@@text:x@@", KEY_B).status_code == 200


def test_the_queue_is_fair_between_keys(gateway_factory: Any, kimi_emulator: Any) -> None:
    """Key a queues six requests, then key b one: b is served next, not after all of a's."""
    gateway = gateway_factory(
        keys=KEYS, reliability=limits(accounts={"platform": {"concurrency": 1}})
    )
    with ThreadPoolExecutor(8) as pool:
        noisy = [pool.submit(chat, gateway, f"@@delay:200@@@@text:a{i}@@", KEY_A) for i in range(6)]
        while len(kimi_emulator.requests()) < 1:  # a0 is in flight, a1…a5 queue
            time.sleep(0.005)
        quiet = pool.submit(chat, gateway, "@@delay:200@@@@text:b@@", KEY_B)
        replies = [f.result() for f in [*noisy, quiet]]
    assert all(r.status_code == 200 for r in replies)
    served = [
        r["body"]["messages"][0]["content"].split(":")[-1][:-2] for r in kimi_emulator.requests()
    ]
    assert served.index("b") <= 2
