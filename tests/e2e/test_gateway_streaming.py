"""Streaming hygiene: events reach the client while Kimi is still generating (no buffering),
and a client that goes away cancels the upstream call (streaming or not).

Cancellation is observed on a purpose-built slow upstream (a raw ASGI app under uvicorn that
records when its client, the gateway, disconnects): the emulator keeps generating for a peer
that left, so it cannot show it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

OPENAI_STREAM = {
    "model": "kimi-k2.6",
    "stream": True,
    "messages": [{"role": "user", "content": "tell me"}],
}
ANTHROPIC_STREAM = {**OPENAI_STREAM, "max_tokens": 500}


class SlowKimi:
    """An OpenAI-face upstream that sends one chunk every 100 ms for 10 s (or, for a
    non-streaming call, answers after 10 s), and notes when the gateway hangs up."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.disconnected = threading.Event()
        self.finished = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.started.set()
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            await self._reply(orjson.loads(body), send)
            self.finished.set()
        finally:
            watcher.cancel()

    async def _watch(self, receive: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected.set()

    async def _reply(self, request: dict[str, Any], send: Any) -> None:
        head = {"id": "chatcmpl-slow", "object": "chat.completion.chunk", "created": 1}
        head["model"] = request["model"]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for n in range(100):
            if self.disconnected.is_set():
                return
            delta = {"role": "assistant", "content": ""} if n == 0 else {"content": f"w{n} "}
            chunk = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await send(
                {
                    "type": "http.response.body",
                    "body": b"data: " + orjson.dumps(chunk) + b"\n\n",
                    "more_body": True,
                }
            )
            await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


@pytest.fixture
def slow_kimi() -> Iterator[tuple[SlowKimi, str]]:
    app = SlowKimi()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield app, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def slow_emulator_gateway(gateway_factory: Any, kimi_emulator_factory: Any) -> Any:
    """The emulator pausing 60 ms between stream events (about 30 events)."""
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 60}])
    return gateway_factory(emulator=emulator)


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/chat/completions", OPENAI_STREAM), ("/v1/messages", ANTHROPIC_STREAM)],
)
def test_events_arrive_while_kimi_is_still_generating(
    slow_emulator_gateway: Any, path: str, body: Any
) -> None:
    gateway = slow_emulator_gateway
    with (
        httpx.Client(base_url=gateway.url, timeout=30) as client,
        client.stream("POST", path, json=body) as reply,
    ):
        assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
        lines = reply.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        # The upstream call is still open: the gateway forwarded before Kimi finished.
        assert gateway.emulator.state.in_flight == 1
        rest = [line for line in lines if line.startswith("data: ")]
    assert first.startswith("data: {")
    assert len(rest) > 10


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/chat/completions", OPENAI_STREAM), ("/v1/messages", ANTHROPIC_STREAM)],
)
def test_client_disconnect_cancels_the_upstream_stream(
    gateway_factory: Any, slow_kimi: tuple[SlowKimi, str], path: str, body: Any
) -> None:
    upstream, url = slow_kimi
    gateway = gateway_factory(base_url=url + "/v1", anthropic_route="translate")
    with (
        httpx.Client(base_url=gateway.url, timeout=30) as client,
        client.stream("POST", path, json=body) as reply,
    ):
        next(line for line in reply.iter_lines() if line.startswith("data: "))
        assert not upstream.disconnected.is_set()
    # Leaving the block closed the connection mid-stream.
    assert upstream.disconnected.wait(timeout=5.0)  # 2 s was short on a loaded machine
    assert not upstream.finished.is_set()
    [line] = gateway.access_log(wait_for=1, timeout=5.0)
    assert (line["status"], line["error"]) == (200, "client_closed")


def test_client_disconnect_cancels_a_non_streaming_call(
    gateway_factory: Any, slow_kimi: tuple[SlowKimi, str]
) -> None:
    upstream, url = slow_kimi
    gateway = gateway_factory(base_url=url + "/v1")
    body = {**OPENAI_STREAM, "stream": False}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gateway.openai_url + "/chat/completions", json=body, timeout=0.5)
    assert upstream.started.is_set()
    assert upstream.disconnected.wait(timeout=5.0)  # 2 s was short on a loaded machine
    assert not upstream.finished.is_set()
    [line] = gateway.access_log(wait_for=1, timeout=5.0)
    assert (line["status"], line["error"]) == (499, "client_closed")


def test_upstream_connection_is_reused_after_a_stream(gateway_factory: Any) -> None:
    """A finished stream is read to its end, so its connection goes back to the pool."""
    gateway = gateway_factory()
    connector = gateway.app.runtime.http.connector
    idle: list[list[object]] = []  # the pool's idle connections after each request
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for body in (OPENAI_STREAM, {**OPENAI_STREAM, "stream": False}, OPENAI_STREAM):
            assert client.post("/v1/chat/completions", json=body).status_code == 200
            # aiohttp's pool has no public view: _conns maps a key to its idle (protocol, time)
            idle.append([proto for conns in connector._conns.values() for proto, _ in conns])
    assert len(idle[0]) == 1
    assert idle == [idle[0]] * 3
