"""The upstream connection pool is a setting, and waiting for a free connection is not a
connect timeout (issue 15 item 6): it is bounded by the request's own deadline, and a call whose
deadline ends in that wait is told that every connection was busy."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest
from aiohttp import web

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.upstreams.http import Timeouts, UpstreamHttp, new_session

NO_RETRY = {"retry": {"enabled": False}}
TEXT = "@@text:one two three four@@"


async def _stream(
    client: openai.AsyncOpenAI, name: str, log: list[str], both: asyncio.Event
) -> str:
    stream = await client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": TEXT}], stream=True
    )
    parts: list[str] = []
    async for chunk in stream:
        if not parts:
            log.append(f"{name} first chunk")
            if len(log) == 2:
                both.set()
        parts.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    log.append(f"{name} done")
    return "".join(parts)


async def _three_streams(url: str) -> tuple[list[str], list[str]]:
    """Two streams take the pool's two connections; a third starts once both have begun."""
    client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0)
    log: list[str] = []
    both = asyncio.Event()  # both hold a connection (their first chunk arrived)
    first = [asyncio.create_task(_stream(client, name, log, both)) for name in ("A", "B")]
    await both.wait()
    texts = await asyncio.gather(*first, _stream(client, "C", log, both))
    await client.close()
    return list(texts), log


def test_a_call_waits_for_a_free_connection_past_the_connect_timeout(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=[{"kind": "slow_chunks", "delay_ms": 100}])
    gateway = gateway_factory(
        emulator=emulator,
        connect_timeout=0.2,
        server={"upstream_pool_size": 2},
        reliability=NO_RETRY,
    )
    texts, log = asyncio.run(_three_streams(gateway.openai_url))
    assert texts == ["one two three four"] * 3
    # C's first chunk came only once A or B had ended and given back its connection
    assert log.index("C first chunk") > min(log.index("A done"), log.index("B done"))


async def _slow(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    await asyncio.sleep(30)
    return response


async def _pool_at_the_deadline() -> tuple[GatewayError, list[int]]:
    app = web.Application()
    app.router.add_get("/", _slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/"
    http = UpstreamHttp(new_session(Timeouts(connect=0.1), pool_size=2), Timeouts(connect=0.1))
    held = [await http.open("GET", url, {}, where="test upstream") for _ in range(2)]
    deadline = asyncio.get_running_loop().time() + 0.4
    with pytest.raises(GatewayError) as caught:
        async with asyncio.timeout_at(deadline):
            await http.open("GET", url, {}, where="test upstream", deadline=deadline)
    for response in held:
        response.close()
    with pytest.raises(GatewayError) as late:  # a fallback's call after the deadline: none
        await http.open("GET", url, {}, where="test upstream", deadline=deadline)
    assert str(late.value) == (
        "the request's deadline passed before the test upstream could be called"
    )
    again = await http.open("GET", url, {}, where="test upstream")  # the slots came back
    statuses = [again.status]
    again.close()
    await http.session.close()
    await runner.cleanup()
    return caught.value, statuses


def test_the_deadline_ends_the_wait_for_a_free_connection_with_what_happened() -> None:
    error, statuses = asyncio.run(_pool_at_the_deadline())
    assert (error.status, error.kind, str(error)) == (
        503,
        "unavailable",
        "all 2 upstream connections were busy until the request's deadline: no connection to "
        "the test upstream came free in time (server.upstream_pool_size)",
    )
    assert statuses == [200]


async def _cancelled_wait() -> bool:
    """A wait cancelled for another reason (the client left) stays a cancellation."""
    app = web.Application()
    app.router.add_get("/", _slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    http = UpstreamHttp(new_session(Timeouts(), pool_size=1), Timeouts())
    held = await http.open("GET", url, {}, where="test upstream")
    deadline = asyncio.get_running_loop().time() + 30
    task = asyncio.create_task(http.open("GET", url, {}, where="t", deadline=deadline))
    await asyncio.sleep(0.1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        cancelled = True
    else:
        cancelled = False
    held.close()
    await http.session.close()
    await runner.cleanup()
    return cancelled


def test_a_wait_cancelled_before_the_deadline_is_a_cancellation() -> None:
    assert asyncio.run(_cancelled_wait())
