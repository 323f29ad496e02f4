"""asgi.DisconnectWatch: told by our connection (server/http_protocol.py) through the scope's
ON_DISCONNECT hooks, it needs no task per request; under another ASGI server it waits on
``receive`` in a task. Either way a lost client cancels the request's task, and a finished
request is cancelled by nothing. (tests/e2e/test_gateway_streaming.py drives the hooks through
the real server: a client that goes away cancels the upstream call.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kimi_gateway.server.asgi import ON_DISCONNECT, DisconnectWatch

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _never() -> dict[str, Any]:
    await asyncio.Event().wait()
    return {}


async def test_hooks_cancel_the_request_without_a_task() -> None:
    scope: dict[str, Any] = {ON_DISCONNECT: []}
    watches: list[DisconnectWatch] = []

    async def request() -> None:
        watches.append(DisconnectWatch(_never, scope))
        await asyncio.sleep(10)

    before = len(asyncio.all_tasks())
    task = asyncio.create_task(request())
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before + 1  # the request's own task, no watcher
    assert len(scope[ON_DISCONNECT]) == 1
    for hook in scope[ON_DISCONNECT]:
        hook()  # what the connection does when the client goes away
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watches[0].disconnected


async def test_a_finished_watch_is_dropped_by_the_connection() -> None:
    scope: dict[str, Any] = {ON_DISCONNECT: []}
    watch = DisconnectWatch(_never, scope)
    watch.finish()
    assert scope[ON_DISCONNECT] == []  # nothing left to cancel, nothing held


async def test_without_hooks_a_task_waits_on_receive() -> None:
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    watches: list[DisconnectWatch] = []

    async def request() -> None:
        watches.append(DisconnectWatch(receive, {}))
        await asyncio.sleep(10)

    task = asyncio.create_task(request())
    await asyncio.sleep(0)
    gone.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watches[0].disconnected
