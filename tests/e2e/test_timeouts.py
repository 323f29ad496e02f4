"""Each upstream timeout bounds one thing only (issue 12 item 5): the response head
(first_byte_timeout), the pauses of the body (idle_timeout), getting a connection
(connect_timeout); and a request sent on a pooled connection the upstream had closed is resent
on a fresh one, not retried. Retries are off where they would hide what is measured."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

NO_RETRY = {"retry": {"enabled": False}}
BODY: dict[str, Any] = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}


def chat(gateway: Any, text: str, **extra: Any) -> httpx.Response:
    body = {**BODY, "messages": [{"role": "user", "content": text}], **extra}
    return httpx.post(gateway.openai_url + "/chat/completions", json=body, timeout=30)


def test_first_byte_timeout_bounds_the_head(gateway_factory: Any) -> None:
    gateway = gateway_factory(first_byte_timeout=0.3, idle_timeout=5, reliability=NO_RETRY)
    reply = chat(gateway, "@@delay:1000@@")
    assert reply.status_code == 504
    assert reply.json()["error"]["message"] == (
        "the Kimi upstream 127.0.0.1 sent no response head within 0.3 s"
    )


def test_idle_timeout_does_not_bound_the_head(gateway_factory: Any) -> None:
    """The bug this fixes: aiohttp's sock_read (the idle limit) also cut a slow head."""
    gateway = gateway_factory(first_byte_timeout=5, idle_timeout=0.3, reliability=NO_RETRY)
    reply = chat(gateway, "@@delay:1000@@@@text:late@@")
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == "late"


def test_idle_timeout_bounds_the_pauses_of_the_body(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 1000}])
    gateway = gateway_factory(
        emulator=emulator, first_byte_timeout=5, idle_timeout=0.3, reliability=NO_RETRY
    )
    reply = chat(gateway, "@@text:x@@", stream=True)
    assert reply.status_code == 200  # the role chunk came at once
    assert reply.text.strip().split("\n\n")[-2:] == [
        'data: {"error":{"message":"the Kimi upstream 127.0.0.1 sent nothing for 0.3 s",'
        '"type":"server_error","param":null,"code":"timeout"}}',
        "data: [DONE]",
    ]


def test_first_byte_timeout_does_not_bound_the_body(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 400}])
    gateway = gateway_factory(
        emulator=emulator, first_byte_timeout=0.3, idle_timeout=5, reliability=NO_RETRY
    )
    reply = chat(gateway, "@@text:slow body@@")
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == "slow body"


@pytest.fixture
def unanswering_port() -> Iterator[int]:
    """A port whose listen backlog is full: a connect there neither succeeds nor fails."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    server.close()


def test_connect_timeout(gateway_factory: Any, unanswering_port: int) -> None:
    gateway = gateway_factory(
        base_url=f"http://127.0.0.1:{unanswering_port}/v1",
        connect_timeout=0.3,
        first_byte_timeout=5,
        reliability=NO_RETRY,
    )
    reply = chat(gateway, "hi")
    assert reply.status_code == 504
    assert reply.json()["error"]["message"] == "connecting to the Kimi upstream 127.0.0.1 timed out"


class OneShotProxy:
    """Forwards to the emulator but answers only the first request of each connection and
    closes it at the second, as an upstream does that times out an idle keep-alive connection
    just as the gateway reuses it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        pairs = (line.split(": ", 1) for line in lines[1:] if ": " in line)
        headers = {name.lower(): value for name, value in pairs}
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length)
        async with httpx.AsyncClient() as client:
            reply = await client.request(
                method,
                self.target + path,
                content=body,
                headers={"authorization": headers.get("authorization", "")},
            )
        out = reply.content
        writer.write(
            b"HTTP/1.1 %d OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s"
            % (reply.status_code, reply.headers["content-type"].encode(), len(out), out)
        )
        await writer.drain()
        await reader.read(1)  # the next request on this connection: close instead
        writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_a_stale_pooled_connection_is_resent_on_a_fresh_one(
    gateway_factory: Any, kimi_emulator: Any
) -> None:
    proxy = OneShotProxy(kimi_emulator.url)
    try:
        gateway = gateway_factory(
            base_url=f"http://127.0.0.1:{proxy.port}/v1", reliability=NO_RETRY
        )
        replies = [chat(gateway, f"@@text:n{i}@@") for i in range(3)]
        assert [r.status_code for r in replies] == [200, 200, 200]
        assert [r.json()["choices"][0]["message"]["content"] for r in replies] == [
            "n0",
            "n1",
            "n2",
        ]
        # 1: conn A; 2: A is reused, dropped, resent on fresh conn B (not pooled); 3: new conn C
        assert proxy.connections == 3
        metrics = httpx.get(gateway.url + "/metrics").text
        assert "kimi_gateway_stale_connection_resends_total 1.0" in metrics
        assert "kimi_gateway_upstream_retries_total{" not in metrics
    finally:
        proxy.stop()
