"""``kimi-gateway serve --workers N``: N gateway processes sharing one port (issue 15 item 7).

Each worker is a whole gateway (its own event loop, upstream pool, ledger writer), forked from
the command's process once the start checks have passed and the database is migrated, and
listening on its own socket bound with SO_REUSEPORT, so the kernel spreads new connections
over the workers (Linux: by a hash of the connection's addresses). The parent only waits: a
SIGINT or SIGTERM it receives is passed to every worker, which drains as a single process
does (server/drain_server.py), and it exits once they have, non-zero if any worker failed.

What must be one across workers goes through the database or Redis (README "Workers"): keys,
the ledger, stored responses and file owners are in the database (SQLite in WAL mode takes
writers from several processes); limits, budgets, the retry budget and the breakers are in
memory unless ``redis_url`` is set, so with several workers and no Redis the limits and budgets
would each be counted per worker, N times what was configured. That combination is refused
(:func:`per_worker_state`); the breakers and the retry budget, which only protect, are allowed
per worker with a warning.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable
from types import FrameType

from kimi_gateway.settings import Settings

Serve = Callable[[Settings, list[socket.socket], bool], None]


def per_worker_state(settings: Settings) -> str | None:
    """Why ``settings`` must not run in several workers, or None."""
    if settings.server.workers == 1 or settings.redis_url:
        return None
    limits = settings.reliability.limits
    counted = []
    if limits.accounts or any(v is not None for v in limits.keys.model_dump().values()):
        counted.append("limits (reliability.limits)")
    if settings.ledger.budgets:
        counted.append("budgets (ledger.budgets)")
    if not counted:
        return None
    return (
        f"refusing to start {settings.server.workers} workers with "
        + " and ".join(counted)
        + " kept in memory: each worker would count them on its own, allowing "
        f"{settings.server.workers} times what is configured. Set redis_url (state shared "
        "by the workers) or use one worker."
    )


def warning(settings: Settings) -> str | None:
    """The banner's line about what each worker keeps to itself, or None."""
    if settings.server.workers == 1:
        return None
    shared = "through Redis" if settings.redis_url else "NOT shared (no redis_url): per worker"
    return (
        f"  workers: {settings.server.workers} processes on one port (SO_REUSEPORT); "
        f"breakers and retry budget {shared}"
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with SO_REUSEPORT (uvicorn makes it listen)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _worker(serve: Serve, settings: Settings, first: bool) -> None:
    # A group of its own: a terminal's Ctrl-C reaches the parent only, which passes it on once
    # (a second SIGINT would make uvicorn stop without draining).
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # uvicorn installs its own handlers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        sock = listening_socket(settings.host, settings.port)
    except OSError as exc:  # e.g. the port taken by a process that did not share it
        where = f"{settings.host}:{settings.port}"
        print(f"kimi-gateway: cannot listen on {where}: {exc.strerror}", file=sys.stderr)
        sys.exit(1)
    serve(settings, [sock], first)


def run_workers(settings: Settings, serve: Serve) -> int:
    """Fork ``settings.server.workers`` processes that each run ``serve`` on their own
    SO_REUSEPORT socket; pass stop signals on; the exit status (0 when all ended cleanly).
    ``serve``'s last argument says whether this worker announces (the first one)."""
    context = multiprocessing.get_context("fork")  # started after the checks, nothing running
    workers = [
        context.Process(target=_worker, args=(serve, settings, index == 0), daemon=False)
        for index in range(settings.server.workers)
    ]
    for worker in workers:
        worker.start()

    def forward(sig: int, _frame: FrameType | None) -> None:
        for worker in workers:
            if worker.pid is not None and worker.exitcode is None:
                os.kill(worker.pid, sig)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for worker in workers:
            worker.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        print(f"kimi-gateway: workers ended with {failed}", file=sys.stderr)
    return 1 if failed else 0
