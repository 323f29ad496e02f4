"""Clean shutdown (issue 12 item 6): ``kimi-gateway serve`` as a real process in front of the
emulator, sent SIGTERM while requests are in flight. It stops accepting, lets what is running
finish within the drain deadline, ends what is left with the dialect's error event, writes one
access-log line per request and exits 0."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_server import PLATFORM_KEY
from served import Served, start_served

from kimi_gateway.emulator.server import EmulatorServer


@pytest.fixture
def serve(tmp_path: Path, kimi_emulator_factory: Any) -> Iterator[Any]:
    started: list[Served] = []

    def start(drain: float, **emulator: Any) -> Served:
        emu: EmulatorServer = kimi_emulator_factory(**emulator)
        config = {
            "api_key": PLATFORM_KEY,
            "base_url": emu.url + "/v1",
            "reliability": {"shutdown": {"drain_seconds": drain}},
        }
        served = start_served(tmp_path / f"gw{len(started)}", config)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def post(url: str, body: dict[str, Any], results: list[httpx.Response | Exception]) -> None:
    try:
        results.append(httpx.post(url, json=body, timeout=30))
    except Exception as exc:
        results.append(exc)


def body(text: str, stream: bool) -> dict[str, Any]:
    return {"model": "kimi-k2.6", "stream": stream, "messages": [{"role": "user", "content": text}]}


def in_background(url: str, payload: dict[str, Any]) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []
    thread = threading.Thread(target=post, args=(url, payload, results))
    thread.start()
    return thread, results


def test_in_flight_stream_finishes_then_exit_0(serve: Any) -> None:
    served = serve(drain=10, faults=[{"kind": "slow_chunks", "delay_ms": 100}])
    thread, results = in_background(
        served.url + "/v1/chat/completions", body("@@text:a b c d e f g h@@", True)
    )
    time.sleep(0.5)
    served.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(httpx.TransportError):  # no longer accepting
        httpx.get(served.url + "/healthz", timeout=1)
    thread.join(30)
    assert served.process.wait(30) == 0
    (reply,) = results
    assert reply.status_code == 200
    assert reply.text.endswith("data: [DONE]\n\n")
    (line,) = served.lines()
    assert (line["status"], line.get("error")) == (200, None)


def test_what_outlives_the_drain_ends_with_the_dialects_error(serve: Any) -> None:
    served = serve(drain=1, faults=[{"kind": "slow_chunks", "delay_ms": 400}])
    text = "@@text:" + " ".join("w" for _ in range(40)) + "@@"
    streams = [
        in_background(served.url + "/v1/chat/completions", body(text, True)),
        in_background(served.url + "/v1/messages", {**body(text, True), "max_tokens": 100}),
        in_background(served.url + "/v1/chat/completions", body("@@delay:20000@@", False)),
    ]
    time.sleep(1.0)
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    for thread, _ in streams:
        thread.join(30)
    assert served.process.wait(30) == 0
    assert time.monotonic() - started < 6
    (openai_reply,), (anthropic_reply,), (waiting,) = (r for _, r in streams)
    message = "the gateway is shutting down and could not finish this request; send it again"
    assert openai_reply.status_code == 200
    assert openai_reply.text.endswith("data: [DONE]\n\n")
    assert message in openai_reply.text.split("\n\n")[-3]
    assert anthropic_reply.status_code == 200
    last = anthropic_reply.text.strip().split("\n\n")[-1]
    assert last.startswith("event: error\n")
    assert message in last
    assert waiting.status_code == 503
    assert waiting.json()["error"]["message"] == message
    lines = sorted((line["route"], line["status"], line.get("error")) for line in served.lines())
    assert lines == [
        ("chat_completions", 200, "shutdown"),
        ("chat_completions", 503, "unavailable"),
        ("messages", 200, "shutdown"),
    ]
