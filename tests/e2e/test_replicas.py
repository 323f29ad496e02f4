"""Many replicas (issue 12 item 7): two ``kimi-gateway serve`` processes sharing the machine's
real Redis (127.0.0.1:6379, a key prefix per test) keep one account's limits together, counted
at the emulator; breaker openings spread; without Redis they degrade to local limits and say so.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from gateway_server import PLATFORM_KEY
from served import Served, start_served

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"kgw-test-{secrets.token_hex(4)}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Any]:
    started: list[Served] = []

    def start(emulator: Any, reliability: dict[str, Any], redis_url: str = REDIS_URL) -> Served:
        config = {
            "api_key": PLATFORM_KEY,
            "base_url": emulator.url + "/v1",
            "redis_url": redis_url,
            "reliability": reliability,
        }
        served = start_served(tmp_path / f"replica{len(started)}", config)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def chat(url: str, text: str = "@@text:x@@") -> httpx.Response:
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": text}]}
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=30)


def emulator_statuses(emulator: Any) -> list[int]:
    return [r["status"] for r in emulator.requests() if r["path"].endswith("/completions")]


def test_two_replicas_share_an_rpm_limit(
    replicas: Any, kimi_emulator_factory: Any, prefix: str
) -> None:
    emulator = kimi_emulator_factory(limits={"rpm": 6})
    reliability = {
        "redis_prefix": prefix,
        "limits": {"accounts": {"platform": {"rpm": 6}}, "max_queue_wait": 1},
    }
    one, two = replicas(emulator, reliability), replicas(emulator, reliability)
    codes = [chat(served.url).status_code for served in (one, two) * 6]
    assert sorted(codes) == [200] * 6 + [429] * 6
    assert emulator_statuses(emulator) == [200] * 6  # Kimi never had to refuse one


def test_two_replicas_share_a_concurrency_limit(
    replicas: Any, kimi_emulator_factory: Any, prefix: str
) -> None:
    emulator = kimi_emulator_factory(limits={"concurrency": 2})
    reliability = {"redis_prefix": prefix, "limits": {"accounts": {"platform": {"concurrency": 2}}}}
    one, two = replicas(emulator, reliability), replicas(emulator, reliability)
    urls = [one.url, two.url] * 5
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda url: chat(url, "@@delay:300@@@@text:x@@"), urls))
    assert [r.status_code for r in replies] == [200] * 10
    assert emulator_statuses(emulator) == [200] * 10


def test_a_breaker_opened_by_one_replica_opens_on_the_other(
    replicas: Any, kimi_emulator_factory: Any, prefix: str
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "server_error"}])
    reliability = {
        "redis_prefix": prefix,
        "retry": {"enabled": False},
        "breaker": {"min_calls": 2, "open_seconds": 60},
    }
    one, two = replicas(emulator, reliability), replicas(emulator, reliability)
    assert [chat(one.url).status_code for _ in range(2)] == [500, 500]
    deadline = time.monotonic() + 10
    while httpx.get(two.url + "/readyz").json()["breakers"]["platform"] != "open":
        assert time.monotonic() < deadline, "the other replica never saw the opening"
        time.sleep(0.2)
    assert chat(two.url).status_code == 503
    assert len(emulator_statuses(emulator)) == 2


def test_without_redis_limits_are_local_and_it_says_so(
    replicas: Any, kimi_emulator: Any, prefix: str
) -> None:
    reliability = {
        "redis_prefix": prefix,
        "limits": {"accounts": {"platform": {"rpm": 2}}, "max_queue_wait": 1},
    }
    served = replicas(kimi_emulator, reliability, redis_url="redis://127.0.0.1:1/0")
    codes = [chat(served.url).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the local limit still holds
    ready = httpx.get(served.url + "/readyz").json()
    assert ready["shared_state"]["status"] == "degraded"
    assert "redis unreachable" in ready["shared_state"]["reason"]
    metrics = httpx.get(served.url + "/metrics").text
    assert "kimi_gateway_shared_state_degraded 1.0" in metrics
    assert "Redis is unreachable" in (served.log.parent / "stderr.txt").read_text()
