"""A client that leaves mid-stream: the emulator stops generating and logs the request as
cancelled (what lets a test see the gateway cancel its upstream call), on both dialects."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .conftest import PLATFORM_KEY

# 60 words at 100 ms a chunk: the whole reply would take 6 s, so an emulator still generating
# after the client left cannot pass for one that stopped.
LONG = "@@text:" + " ".join(["word"] * 60) + "@@"
FACES = [
    pytest.param(
        "/v1/chat/completions",
        {"authorization": f"Bearer {PLATFORM_KEY}"},
        {"model": "kimi-k2.6"},
        id="openai",
    ),
    pytest.param(
        "/anthropic/v1/messages",
        {"x-api-key": PLATFORM_KEY},
        {"model": "kimi-k2.6", "max_tokens": 500},
        id="anthropic",
    ),
]


@pytest.fixture
def slow(kimi_emulator_factory: Any) -> EmulatorServer:
    server: EmulatorServer = kimi_emulator_factory(
        faults=[{"kind": "slow_chunks", "delay_ms": 100}]
    )
    return server


def _in_flight_after(server: EmulatorServer, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while server.state.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.state.in_flight


@pytest.mark.parametrize(("path", "headers", "fields"), FACES)
def test_leaving_mid_stream_stops_the_reply_and_is_logged_as_cancelled(
    slow: EmulatorServer, path: str, headers: dict[str, str], fields: dict[str, Any]
) -> None:
    body = {**fields, "stream": True, "messages": [{"role": "user", "content": LONG}]}
    with (
        httpx.Client(base_url=slow.url, headers=headers, timeout=10) as client,
        client.stream("POST", path, json=body) as reply,
    ):
        assert reply.status_code == 200
        # Hold the iterator: a dropped httpx line iterator closes the connection when collected.
        lines = reply.iter_lines()
        next(line for line in lines if line.startswith("data: "))
        time.sleep(0.15)  # more than one chunk's delay: a disconnect seen now would be spurious
        assert (slow.state.in_flight, "cancelled" in slow.requests()[0]) == (1, False)
    # Leaving the block closed the connection with most of the reply unsent.
    assert _in_flight_after(slow, 2.0) == 0
    [entry] = slow.requests()
    assert (entry["path"], entry["status"], entry.get("cancelled")) == (path, 200, True)


@pytest.mark.parametrize(("path", "headers", "fields"), FACES)
def test_a_stream_read_to_its_end_is_not_cancelled(
    kimi_emulator: EmulatorServer, path: str, headers: dict[str, str], fields: dict[str, Any]
) -> None:
    body = {**fields, "stream": True, "messages": [{"role": "user", "content": "@@text:a b@@"}]}
    with httpx.Client(base_url=kimi_emulator.url, headers=headers, timeout=10) as client:
        reply = client.post(path, json=body)
    assert reply.status_code == 200
    assert _in_flight_after(kimi_emulator, 2.0) == 0
    [entry] = kimi_emulator.requests()
    assert "cancelled" not in entry
    # served.py: a reply carrying its usage whole says what it served.
    assert entry["tool_calls"] == []
    assert entry["usage"]["completion_tokens"] > 0


def test_a_cut_stream_is_not_a_cancellation(kimi_emulator: EmulatorServer) -> None:
    body = {
        "model": "kimi-k2.6",
        "stream": True,
        "messages": [{"role": "user", "content": "@@cut@@"}],
    }
    headers = {"authorization": f"Bearer {PLATFORM_KEY}"}
    with (
        httpx.Client(base_url=kimi_emulator.url, headers=headers, timeout=10) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.post("/v1/chat/completions", json=body)
    [entry] = kimi_emulator.requests()
    assert (entry["status"], "cancelled" in entry) == (200, False)
