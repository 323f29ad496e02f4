"""One large request does not block every client (issue 10 item 4), measured on a `kimi-gateway
serve` process with the default limits while it handles the largest requests they allow.

Before the fix, a 32 MiB body of a million tiny messages kept the event loop busy for tens of
seconds (``/healthz`` p99 24 s measured) and left RSS near 1 GB; the largest requests still
allowed now stalled it for 0.2-0.5 s. The bound is the issue's target, 100 ms at the 99th
percentile, plus what the machine adds with nothing to do (the baseline p99), so that a busy
test machine does not fail it while a blocked loop always does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from loop_probe import Prober, Stack, measure_baseline

LIMIT = 32 * 1024 * 1024 - 16 * 1024  # just under max_body_bytes
HEAD = b'{"model":"kimi-k2.6",'
PROMPT = b'{"role":"user","content":"@@text:ok@@ '
JSON = {"content-type": "application/json"}


def largest_messages() -> bytes:
    """max_messages (10,000) messages filling the largest body."""
    count = 10_000
    text = b"y" * ((LIMIT - 1000) // count - 40)
    one = b'{"role":"user","content":"' + text + b'"},'
    return HEAD + b'"messages":[' + one * (count - 1) + PROMPT + b'"}]}'


def largest_values() -> bytes:
    """About max_json_values (100,000) JSON values of tool schemas, and a long prompt."""
    props = b",".join(b'"p%d":{"type":"string"}' % i for i in range(100))
    tool = b'{"name":"f%d","input_schema":{"type":"object","properties":{' + props + b"}}}"
    tools = b",".join(tool % i for i in range(470))
    body = HEAD + b'"max_tokens":10,"tools":[' + tools + b'],"messages":[' + PROMPT
    return body + b"z" * (LIMIT - len(body) - 10) + b'"}]}'


def one_string() -> bytes:
    """One prompt as long as the largest body."""
    body = HEAD + b'"messages":[' + PROMPT
    return body + b"q" * (LIMIT - len(body) - 10) + b'"}]}'


def million_messages() -> bytes:
    """The issue's body: ~1M tiny messages in 32 MiB (now a quick 400)."""
    one = b'{"role":"user","content":"x"},'
    count = (LIMIT - 200) // len(one)
    return HEAD + b'"messages":[' + one * (count - 1) + PROMPT + b'"}]}'


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    served = Stack(tmp_path_factory.mktemp("load")).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def baseline(stack: Stack) -> float:
    # A large request on each path first: the first in a fresh process pays once for what later
    # ones reuse (the worker thread, fresh heap pages for 32 MiB), 20-60 ms more on the loop
    # than the second (measured); the bound is for what every large request costs the others.
    for make, path in (
        (largest_messages, "/v1/chat/completions"),
        (largest_values, "/v1/messages"),
    ):
        httpx.post(stack.url + path, content=make(), headers=JSON, timeout=120)
    return measure_baseline(stack.url)


def _peak_rss(stack: Stack, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], stack.rss_mb())
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("make", "path", "status"),
    [
        (largest_messages, "/v1/chat/completions", 400),  # Kimi: over its context window
        (largest_values, "/v1/messages", 400),  # Kimi: more than 128 tools
        (one_string, "/v1/chat/completions", 400),
        (million_messages, "/v1/chat/completions", 400),  # ours: too many JSON values
    ],
)
def test_healthz_stays_responsive_and_memory_returns(
    stack: Stack, baseline: float, make: Callable[[], bytes], path: str, status: int
) -> None:
    body = make()
    before = stack.rss_mb()
    peak, stop = [before], threading.Event()
    watcher = threading.Thread(target=_peak_rss, args=(stack, stop, peak))
    watcher.start()
    with Prober(stack.url) as prober:
        time.sleep(0.2)
        started = time.monotonic()
        reply = httpx.post(stack.url + path, content=body, headers=JSON, timeout=120)
        took = time.monotonic() - started
        time.sleep(0.2)
    del body
    stop.set()
    watcher.join()
    assert reply.status_code == status, reply.text[:300]
    assert took < 30
    assert prober.failures == 0
    p99 = prober.percentile(0.99)
    assert p99 < 0.1 + baseline, (
        f"/healthz p99 {p99 * 1000:.0f} ms (baseline {baseline * 1000:.0f})"
    )
    deadline = time.monotonic() + 5
    while stack.rss_mb() > before + 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    after = stack.rss_mb()
    assert after <= before + 40, f"RSS {before:.0f} → {peak[0]:.0f} → {after:.0f} MB"


def test_the_issues_schema_of_a_million_properties_is_refused_quickly(stack: Stack) -> None:
    props = b",".join(b'"p%07d":{"type":"string"}' % i for i in range(1_000_000))
    body = (
        HEAD + b'"messages":[' + PROMPT + b'"}],"tools":[{"type":"function","function":'
        b'{"name":"f","parameters":{"type":"object","properties":{' + props + b"}}}}]}"
    )
    started = time.monotonic()
    reply = httpx.post(stack.url + "/v1/chat/completions", content=body, headers=JSON, timeout=60)
    assert time.monotonic() - started < 5
    assert reply.status_code == 400
    assert "security.requests.max_json_values" in reply.json()["error"]["message"]
