"""``kimi-gateway serve --workers N``: N gateway processes sharing one port (issue 15 item 7).

Each worker is a whole gateway (its own event loop, upstream pool, ledger writer), forked from
the command's process once the start checks have passed and the database is migrated, and
listening on its own socket bound with SO_REUSEPORT, so the kernel spreads new connections
over the workers (Linux: by a hash of the connection's addresses). The parent only
supervises: a worker that dies (a crash, an out-of-memory kill) is replaced, unless it died
within seconds of its start; a SIGINT or SIGTERM it receives is passed to every worker, which
drains as a single process does (server/drain_server.py), and it exits once they have,
non-zero if any worker failed.

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
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

from kimi_gateway.settings import Settings

Serve = Callable[[Settings, list[socket.socket], bool], None]
SETTLE_SECONDS = 5.0  # a worker that dies sooner after its start is not replaced
# How a worker asked to stop ends: drained (0), or by the signal uvicorn re-raises.
_STOPPED = frozenset({0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT})


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
        line = f"kimi-gateway: cannot listen on {where}: {exc.strerror}\n"
        os.write(2, line.encode())  # one write: sibling workers say the same at the same time
        sys.exit(1)
    serve(settings, [sock], first)


class _Supervisor:
    """The parent: starts the workers, passes stop signals on, replaces a worker that dies
    (a crash or an out-of-memory kill) unless it died within ``SETTLE_SECONDS`` of starting,
    which would only repeat (a port that cannot be bound, a broken config)."""

    def __init__(self, settings: Settings, serve: Serve) -> None:
        self.settings = settings
        self.serve = serve
        self.context = multiprocessing.get_context("fork")  # after the checks: nothing runs
        self.alive: dict[multiprocessing.process.BaseProcess, float] = {}  # → started at
        self.ended: list[int] = []
        self.stopping = False

    def start(self, first: bool) -> None:
        worker = self.context.Process(
            target=_worker, args=(self.serve, self.settings, first), daemon=False
        )
        worker.start()
        self.alive[worker] = time.monotonic()

    def forward(self, sig: int, _frame: FrameType | None) -> None:
        self.stopping = True
        for worker in self.alive:
            if worker.pid is not None and worker.exitcode is None:
                os.kill(worker.pid, sig)

    def run(self) -> int:
        for index in range(self.settings.server.workers):
            self.start(index == 0)
        while self.alive:
            ready = multiprocessing.connection.wait([w.sentinel for w in self.alive])
            for worker in [w for w in self.alive if w.sentinel in ready]:
                self._ended(worker)
        failed = [code for code in self.ended if code not in _STOPPED]
        if failed:
            print(f"kimi-gateway: workers ended with {failed}", file=sys.stderr)
        return 1 if failed else 0

    def _ended(self, worker: multiprocessing.process.BaseProcess) -> None:
        worker.join()
        started = self.alive.pop(worker)
        code = worker.exitcode if worker.exitcode is not None else 1
        if self.stopping or time.monotonic() - started < SETTLE_SECONDS:
            self.ended.append(code if self.stopping or code else 1)
            return
        print(
            f"kimi-gateway: worker {worker.pid} ended ({code}); starting another",
            file=sys.stderr,
        )
        self.start(first=False)


def run_workers(settings: Settings, serve: Serve) -> int:
    """Fork ``settings.server.workers`` processes that each run ``serve`` on their own
    SO_REUSEPORT socket, keep that many running, pass stop signals on; the exit status (0
    when all ended because they were asked to). ``serve``'s last argument says whether this
    worker announces (the first one)."""
    supervisor = _Supervisor(settings, serve)
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, supervisor.forward) for sig in signals}
    try:
        return supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
