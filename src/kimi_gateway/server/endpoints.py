"""The small endpoints: ``HEAD``/``GET /`` (Claude Code probes it first: docs/kimi.md §F1),
``/healthz`` (the process answers), ``/readyz`` (started and able to serve), ``/metrics``.

Who may call each is ``security.endpoints`` (docs/security.md): ``open`` (anyone), ``key`` (a
gateway key, or the master key; nobody needs one while keys are optional) or ``admin`` (the
master key). By default ``/``, ``/healthz`` and ``/readyz`` are open (probes and load balancers
have no key) and ``/metrics``, which counts requests, tokens and errors per route and upstream,
needs a key.
"""

from __future__ import annotations

import os

from kimi_gateway import __version__
from kimi_gateway.server.admin import require_master
from kimi_gateway.server.asgi import JSON_TYPE, send_bytes, send_json
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.metrics import CONTENT_TYPE
from kimi_gateway.settings_security import Access
from kimi_gateway.upstreams.http import Pool


def _admit(ex: Exchange, access: Access) -> None:
    if access == "key":
        ex.authenticate(master=True)
    elif access == "admin":
        require_master(ex)


async def root(ex: Exchange) -> None:
    _admit(ex, ex.runtime.settings.security.endpoints.root)
    if ex.scope["method"] == "HEAD":
        await send_bytes(ex.send, 200, b"", [JSON_TYPE])
        return
    upstream = "emulator" if ex.runtime.emulated else "kimi"
    await _json(ex, {"service": "kimi-gateway", "version": __version__, "upstream": upstream})


async def healthz(ex: Exchange) -> None:
    _admit(ex, ex.runtime.settings.security.endpoints.healthz)
    await _json(ex, {"status": "ok"})


async def readyz(ex: Exchange) -> None:
    _admit(ex, ex.runtime.settings.security.endpoints.readyz)
    runtime = ex.runtime
    reliability = runtime.engine.reliability.readiness()
    body: dict[str, object] = {"status": "ready", "upstreams": sorted(runtime.upstreams)}
    body.update(reliability)
    pool = runtime.http.connector
    if isinstance(pool, Pool):  # connections in use at most, calls waiting for one
        body["upstream_pool"] = {"size": pool.size, "waiting": pool.waiting}
    if runtime.fds is not None:  # the open-files limit and the streams it allows
        body["open_files"] = runtime.fds.readiness()
    body["pid"] = os.getpid()  # which worker answered (serve --workers N)
    await _json(ex, body)


async def metrics(ex: Exchange) -> None:
    _admit(ex, ex.runtime.settings.security.endpoints.metrics)
    body = ex.runtime.metrics.render()
    await send_bytes(ex.send, 200, body, [(b"content-type", CONTENT_TYPE)])


async def _json(ex: Exchange, body: object) -> None:
    await send_json(ex.send, 200, body)
