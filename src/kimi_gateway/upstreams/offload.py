"""CPU-heavy request work off the event loop, for large requests only (issue 10 item 4).

A face marks a call heavy (``CallContext.heavy``) when its body was large; an upstream then runs
its translate-and-encode step in a worker thread, where Python code gives the GIL back every few
milliseconds, so other clients keep being served. Small requests stay on the loop: a thread hop
costs more than translating them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from kimi_gateway.core.offloaded import OFFLOADED
from kimi_gateway.core.upstream import CallContext
from kimi_gateway.upstreams.http import SlicedBody

_SLICE = 1 << 20  # bytes per write of a large body
P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(ctx: CallContext, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)``: in a worker thread when ``ctx`` is heavy, else right here."""
    if ctx.heavy:
        return await asyncio.to_thread(_marked, functools.partial(work, *args, **kwargs))
    return work(*args, **kwargs)


def _marked(work: Callable[[], T]) -> T:
    """``work()`` with core/offloaded.py's flag set, in the worker's own copy of the context."""
    OFFLOADED.set(True)
    return work()


def outgoing_body(ctx: CallContext, body: bytes, headers: dict[str, str]) -> bytes | SlicedBody:
    """``body`` as the HTTP client should send it: whole, or, for a heavy call, in 1 MiB slices
    with its length declared (so it still goes with ``content-length``). Written whole, a
    32 MiB body is copied into the socket buffer in one go on the event loop (~40 ms
    measured); in slices the loop serves others between them."""
    if not ctx.heavy or len(body) <= _SLICE:
        return body
    headers["content-length"] = str(len(body))
    return SlicedBody(body, _SLICE)
