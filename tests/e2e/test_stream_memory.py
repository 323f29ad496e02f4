"""A finished request leaves nothing for the cyclic collector (issue 15 item 6): what a stream
held goes by reference counting when it ends. The disconnect watcher's cancelled task kept
the request's task and connection in a reference cycle until a full collection, which the
runner makes rare, so a burst of thousands of streams kept its memory (bench/STREAMS.md).
The gateway runs in this process (tests/e2e/gateway_server.py), so its objects can be
counted here with the collector off."""

from __future__ import annotations

import gc
import time
from typing import Any

import httpx

from kimi_gateway.server.asgi import DisconnectWatch

BODY = {
    "model": "kimi-k2.6",
    "messages": [{"role": "user", "content": "@@text:one two three@@"}],
    "stream": True,
}


def _watches() -> int:
    return sum(isinstance(o, DisconnectWatch) for o in gc.get_objects())


def test_finished_streams_leave_no_reference_cycle(gateway: Any) -> None:
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            reply = httpx.post(gateway.openai_url + "/chat/completions", json=BODY, timeout=30)
            assert reply.text.endswith("data: [DONE]\n\n")
        deadline = time.monotonic() + 5
        while _watches() and time.monotonic() < deadline:
            time.sleep(0.05)  # the watchers' cancellation runs on the gateway's loop
        left = _watches()
    finally:
        gc.enable()
    assert left == 0
