"""Whether the caller runs in the offload worker (upstreams/offload.py, server/exchange.py).

Large bodies are parsed and translated in a worker thread while the event loop serves everyone
else. There, one C call over many MB (an ``orjson`` dump or load) holds the GIL long enough to
stall the loop for every other client, where pure-Python work lets it run between steps; code
with such a fast path takes the slow one when :func:`offloaded`. The flag lives in the worker's
own copy of the context (``asyncio.to_thread`` copies it), so nothing else ever sees it set.
"""

from __future__ import annotations

from contextvars import ContextVar

OFFLOADED: ContextVar[bool] = ContextVar("kimi_gateway_offloaded", default=False)


def offloaded() -> bool:
    return OFFLOADED.get()
