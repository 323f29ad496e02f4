"""Stalled and greedy clients are dropped (issue 10 item 5), on raw sockets against a running
gateway with short limits: a half-sent head, a body at a trickle, oversized or too many header
lines, too many connections, an idle keep-alive connection. Before the fix each of these
connections was held open for as long as the client liked. Every wait here is bounded."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

FAST = {
    "connections": {
        "header_timeout": 0.5,
        "body_timeout": 0.5,
        "body_min_rate": 500,
        "keep_alive_timeout": 1,
        "max_header_bytes": 4096,
        "max_header_count": 20,
        "max_connections": 1024,
    }
}
CHAT = orjson.dumps(
    {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "@@text:ok@@"}]}
)


@pytest.fixture
def fast(gateway_factory: Any) -> Any:
    return gateway_factory(security=FAST)


@contextmanager
def _connect(gateway: Any) -> Iterator[socket.socket]:
    parts = urlsplit(gateway.url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=6) as sock:
        yield sock


def _read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the gateway sends until it closes, and how long that took (fails at
    ``within`` seconds: the connection was held)."""
    started = time.monotonic()
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pytest.fail(f"the connection was still open after {within} s; got {data[:200]!r}")
    return data, time.monotonic() - started


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def test_a_half_sent_head_gets_408_and_is_closed(fast: Any) -> None:
    with _connect(fast) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: 1")
        data, took = _read_until_closed(sock, within=5)
    assert _status(data) == 408
    assert data.endswith(b"the request head did not arrive in time")
    assert took < 3


def test_a_silent_connection_is_closed(fast: Any) -> None:
    with _connect(fast) as sock:
        data, took = _read_until_closed(sock, within=5)
    assert data == b""
    assert took < 3


def test_a_head_sent_a_byte_at_a_time_is_cut(fast: Any) -> None:
    head = b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + b"x-pad: " + b"a" * 100 + b"\r\n\r\n"
    with _connect(fast) as sock:
        started = time.monotonic()
        # The gateway closes while we are still sending: some write fails (which one is timing).
        with pytest.raises(OSError):  # noqa: PT011, PT012
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - started > 5:
                    pytest.fail("the slow head was still accepted after 5 s")
            sock.sendall(b"x" * 65536)  # the write after the close fails for certain
            sock.sendall(b"x" * 65536)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_a_trickling_body_gets_a_408_in_the_dialect(fast: Any, path: str) -> None:
    with _connect(fast) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            "content-length: 5000\r\n\r\n".encode()
        )
        sock.settimeout(0.2)
        started = time.monotonic()
        data = b""
        while time.monotonic() - started < 6:
            try:
                sock.sendall(b" ")  # one byte every 0.1 s: far under 500 bytes/s
                data += sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if data and b"\r\n\r\n" in data:
                break
        else:
            pytest.fail("the trickling body was still being read after 6 s")
    assert _status(data) == 408
    body = orjson.loads(data.partition(b"\r\n\r\n")[2])
    message = (
        "the request body arrived too slowly (security.connections.body_timeout, body_min_rate)"
    )
    error = body["error"]
    assert error["message"] == message
    if path == "/v1/messages":
        assert body["type"] == "error"
    assert fast.access_log(wait_for=1)[-1]["status"] == 408


def test_a_body_that_stops_gets_a_408_and_the_connection_ends(fast: Any) -> None:
    with _connect(fast) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n{"
        )
        data, took = _read_until_closed(sock, within=12)
    assert _status(data) == 408
    assert took < 10  # the 408 after ~0.5 s, then at most 5 s for the rest of the body


def test_too_large_and_too_many_header_lines_get_431(fast: Any) -> None:
    cases = [
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 5000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n"
        + b"".join(b"x-%d: 1\r\n" % i for i in range(30))
        + b"\r\n",
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-endless: " + b"a" * 20000,  # never ends
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nhost: x\r\n\r\n",
    ]
    for request in cases:
        with _connect(fast) as sock:
            sock.sendall(request)
            data, _ = _read_until_closed(sock, within=5)
        assert _status(data) == 431, data[:100]


def test_header_limits_leave_ordinary_requests_alone(fast: Any) -> None:
    headers = {f"x-h{i}": "v" * 100 for i in range(15)}
    assert httpx.get(fast.url + "/healthz", headers=headers).status_code == 200


def test_connections_over_the_limit_get_503(gateway_factory: Any) -> None:
    limits = {**FAST["connections"], "header_timeout": 30, "max_connections": 3}
    gateway = gateway_factory(security={"connections": limits})
    with _connect(gateway) as one, _connect(gateway) as two, _connect(gateway) as three:
        time.sleep(0.2)
        with _connect(gateway) as four:
            data, _ = _read_until_closed(four, within=5)
        assert _status(data) == 503
        assert data.endswith(b"too many connections")
        for sock in (one, two, three):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            reply, _ = _read_until_closed(sock, within=5)
            assert _status(reply) == 200
    time.sleep(0.2)
    assert httpx.get(gateway.url + "/healthz").status_code == 200  # room again


def test_an_idle_keep_alive_connection_is_closed(fast: Any) -> None:
    with _connect(fast) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        data, took = _read_until_closed(sock, within=6)
    assert _status(data) == 200
    assert 0.5 < took < 4  # kept for keep_alive_timeout (1 s), then closed


def test_keep_alive_and_a_steady_body_still_work(fast: Any) -> None:
    with httpx.Client(base_url=fast.url, headers={"content-type": "application/json"}) as client:
        for _ in range(3):
            reply = client.post("/v1/chat/completions", content=CHAT)
            assert reply.status_code == 200

        def steady() -> Iterator[bytes]:  # 2 KB every 0.2 s for 1.2 s: over 500 bytes/s
            body = CHAT[:-1] + b', "metadata": {"pad": "' + b"p" * 12000 + b'"}}'
            for start in range(0, len(body), 2000):
                time.sleep(0.2)
                yield body[start : start + 2000]

        assert client.post("/v1/chat/completions", content=steady()).status_code == 200


def test_a_refused_body_cannot_hold_the_connection(gateway_factory: Any) -> None:
    gateway = gateway_factory(security=FAST, max_body_bytes=1000)
    with _connect(gateway) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 100000\r\n\r\n"
        )
        sock.settimeout(0.1)
        started, data = time.monotonic(), b""
        while time.monotonic() - started < 12:
            try:
                sock.sendall(b"x" * 100)  # keeps sending after the 413
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        else:
            pytest.fail("the connection was held after the 413")
    assert _status(data) == 413
    assert time.monotonic() - started < 10  # the 413 at once, then 5 s for the body to end
