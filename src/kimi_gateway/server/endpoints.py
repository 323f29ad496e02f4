"""The small endpoints: ``HEAD``/``GET /`` (Claude Code probes it first: docs/kimi.md §F1),
``/healthz`` (the process answers), ``/readyz`` (started and able to serve), ``/metrics``.
"""

from __future__ import annotations

from kimi_gateway import __version__
from kimi_gateway.server.asgi import JSON_TYPE, send_bytes, send_json
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.metrics import CONTENT_TYPE


async def root(ex: Exchange) -> None:
    if ex.scope["method"] == "HEAD":
        await send_bytes(ex.send, 200, b"", [JSON_TYPE])
        return
    upstream = "emulator" if ex.runtime.emulated else "kimi"
    await _json(ex, {"service": "kimi-gateway", "version": __version__, "upstream": upstream})


async def healthz(ex: Exchange) -> None:
    await _json(ex, {"status": "ok"})


async def readyz(ex: Exchange) -> None:
    reliability = ex.runtime.engine.reliability.readiness()
    await _json(ex, {"status": "ready", "upstreams": sorted(ex.runtime.upstreams), **reliability})


async def metrics(ex: Exchange) -> None:
    body = ex.runtime.metrics.render()
    await send_bytes(ex.send, 200, body, [(b"content-type", CONTENT_TYPE)])


async def _json(ex: Exchange, body: object) -> None:
    await send_json(ex.send, 200, body)
