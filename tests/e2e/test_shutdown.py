"""Clean shutdown (issue 12 item 6): ``kimi-gateway serve`` as a real process in front of the
emulator, sent SIGTERM while requests are in flight. It stops accepting, lets what is running
finish within the drain deadline, ends what is left with the dialect's error event, writes one
access-log line per request and exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from gateway_server import PLATFORM_KEY

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.settings import ENV_NAMES


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text() if self.log.exists() else ""
        lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
        return [line for line in lines if line["route"] != "healthz"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path, kimi_emulator_factory: Any) -> Iterator[Any]:
    started: list[Served] = []

    def start(drain: float, **emulator: Any) -> Served:
        emu: EmulatorServer = kimi_emulator_factory(**emulator)
        port = free_port()
        config = {
            "api_key": PLATFORM_KEY,
            "base_url": emu.url + "/v1",
            "port": port,
            "data_dir": str(tmp_path),
            "access_log": str(tmp_path / "access.log"),
            "reliability": {"shutdown": {"drain_seconds": drain}},
        }
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not any(k in n for n in ENV_NAMES.values())}
        process = subprocess.Popen(
            [sys.executable, "-m", "kimi_gateway", "serve", "--config", str(path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "stderr.txt").open("wb"),
        )
        served = Served(process, f"http://127.0.0.1:{port}", tmp_path / "access.log")
        started.append(served)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(served.url + "/healthz", timeout=1)
                return served
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the gateway did not start") from None
                time.sleep(0.1)

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
        served.process.wait()


def post(url: str, body: dict[str, Any], results: list[httpx.Response | Exception]) -> None:
    try:
        results.append(httpx.post(url, json=body, timeout=30))
    except Exception as exc:  # noqa: BLE001 (recorded for the assertion)
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
        in_background(
            served.url + "/v1/messages", {**body(text, True), "max_tokens": 100}
        ),
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
    assert last.startswith("event: error\n") and message in last
    assert waiting.status_code == 503
    assert waiting.json()["error"]["message"] == message
    lines = sorted((line["route"], line["status"], line.get("error")) for line in served.lines())
    assert lines == [
        ("chat_completions", 200, "shutdown"),
        ("chat_completions", 503, "unavailable"),
        ("messages", 200, "shutdown"),
    ]
