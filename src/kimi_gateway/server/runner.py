"""Run the gateway as a production server: uvicorn with uvloop and httptools, in one process or
several sharing the port (``server.workers``, server/workers.py).

The bind check happens before anything listens: on a non-loopback address with no gateway key
(no master key, no config key, no key in the store) the start is refused with a message saying
what to do (issue 4 item 4).
"""

from __future__ import annotations

import gc
import math
import socket
import sys
from collections.abc import Callable
from functools import partial

import uvicorn

from kimi_gateway.ledger.keys import KeyStore
from kimi_gateway.server.app import create_app
from kimi_gateway.server.banner import refusal
from kimi_gateway.server.drain_server import AFTER_DRAIN, DrainingServer
from kimi_gateway.server.http_protocol import uvicorn_options
from kimi_gateway.server.request_body import tune_malloc
from kimi_gateway.server.workers import per_worker_state, run_workers
from kimi_gateway.settings import Settings

Announce = Callable[[str], None]


class StartRefused(Exception):
    """The gateway must not start as configured; the message says why and what to do."""


def serve(settings: Settings, *, announce: Callable[[str], None]) -> int:
    """Serve until interrupted (blocking); the exit status. With ``server.workers`` above 1,
    in that many processes sharing the port (server/workers.py)."""
    try:
        store = KeyStore(settings.resolved_database_url())  # opened and migrated, once
    except Exception as exc:
        raise StartRefused(f"cannot open the key store: {exc}") from None
    try:
        configured = bool(settings.master_key or settings.keys or store.active())
        refused = refusal(settings.host, configured) or per_worker_state(settings)
        if refused is not None:
            raise StartRefused(refused)
        if settings.server.workers == 1:
            _serve_one(settings, store, None, announce)
            return 0
    finally:
        store.close()
    return run_workers(settings, partial(_serve_worker, announce=announce))


def _serve_worker(
    settings: Settings, sockets: list[socket.socket], first: bool, *, announce: Announce
) -> None:
    store = KeyStore(settings.resolved_database_url())
    try:
        _serve_one(settings, store, sockets, announce if first else None)
    finally:
        store.close()


def _serve_one(
    settings: Settings,
    store: KeyStore,
    sockets: list[socket.socket] | None,
    announce: Announce | None,
) -> None:
    app = create_app(settings, key_store=store, announce=announce)
    drain = settings.reliability.shutdown.drain_seconds
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        **uvicorn_options(settings),  # connection limits (security.connections)
        lifespan="on",
        access_log=False,  # ours is the JSON access log (server/access_log.py)
        server_header=False,
        log_level=settings.log_level,
        # the drain, then a moment for what it ended to write its last bytes
        timeout_graceful_shutdown=math.ceil(drain + AFTER_DRAIN),
    )
    _tune_gc()
    tune_malloc()
    sys.setswitchinterval(_SWITCH_INTERVAL)
    DrainingServer(config, app, drain).run(sockets=sockets)


# How long a thread running Python may keep the GIL while another waits for it (Python's
# default: 5 ms). A large body is parsed and translated in the offload worker; each time the
# event loop wakes to serve someone else it waits for the GIL, up to this long, and one small
# request needs several wake-ups. Measured on tests/e2e/test_security_load.py's bodies: the
# /healthz p99 during one 32 MiB request went from 32-63 ms to 24-40 ms at 1 ms. The extra
# switches cost nothing while the other threads (ledger writer, access log) sleep.
_SWITCH_INTERVAL = 0.001


def _tune_gc() -> None:
    """Fewer, cheaper cyclic collections for a long-running server: what start-up built (modules,
    settings, tables) is frozen out of every later collection, and the young generation may
    grow ten times larger before a collection runs. Measured: the collector took about 7% of
    the gateway's CPU under load with the defaults (bench/PROFILE.md)."""
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0 * 10, gen1, gen2)
