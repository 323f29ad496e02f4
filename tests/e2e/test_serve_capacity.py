"""What one ``kimi-gateway serve`` can hold (issue 15 items 6 and 7): the open-files limit is
raised at start and reported in the banner and ``/readyz``. The CLI runs in a child process
whose soft limit the test lowers first, as a shell's default of 1,024 (or less) would."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from kimi_gateway.server.workers import SETTLE_SECONDS

LOW = 256  # the child's soft limit on open files at start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


class Serve:
    """``kimi-gateway serve`` in a child process (on the emulator: no Kimi key)."""

    def __init__(self, tmp: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
        env["KIMI_GATEWAY_DATA_DIR"] = str(tmp)
        env["KIMI_GATEWAY_ACCESS_LOG"] = "off"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "stderr.txt"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kimi_gateway", "serve", "--port", str(self.port), *args],
                env=env,
                stderr=log,
                preexec_fn=_low_fd_limit,
            )

    def ready(self, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("serve ended:\n" + self.log.read_text())
            try:
                return dict(httpx.get(self.url + "/readyz", timeout=2).json())
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("serve did not start:\n" + self.log.read_text())

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)
        return self.log.read_text()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[Serve] = []

    def start(*args: str) -> Serve:
        started.append(Serve(tmp_path, *args))
        return started[-1]

    yield start
    for served in started:
        served.stop()


HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
needs_room = pytest.mark.skipif(
    HARD == resource.RLIM_INFINITY or HARD <= LOW, reason="the hard limit leaves nothing to raise"
)


@needs_room
def test_the_open_files_limit_is_raised_and_reported(serve: Any) -> None:
    served = serve()
    ready = served.ready()
    streams = (HARD - 64) // 2
    assert ready["open_files"] == {"limit": HARD, "streams": streams}
    banner = served.stop()
    assert (
        f"  open files: {HARD}, raised from {LOW} (streams it can hold: about {streams:,}; "
        "2 files each)"
    ) in banner.splitlines()


@needs_room
def test_raise_fd_limit_false_keeps_the_limit_found(serve: Any, tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("server:\n  raise_fd_limit: false\n")
    ready = serve("--config", str(config)).ready()
    assert ready["open_files"] == {"limit": LOW, "streams": (LOW - 64) // 2}


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def test_two_workers_share_the_port_and_both_serve(serve: Any, tmp_path: Path) -> None:
    served = serve("--workers", "2")
    served.ready()
    pids = {httpx.get(served.url + "/readyz").json()["pid"] for _ in range(200)}  # new conns
    assert len(pids) == 2
    assert {_parent(pid) for pid in pids} == {served.process.pid}
    texts = set()
    for _ in range(20):  # a client (a connection) each: the kernel spreads them over workers
        with openai.OpenAI(base_url=served.url + "/v1", api_key="-", max_retries=0) as client:
            reply = client.chat.completions.create(
                model="kimi-k2.6", messages=[{"role": "user", "content": "@@text:hello@@"}]
            )
            texts.add(reply.choices[0].message.content)
    assert texts == {"hello"}
    banner = served.stop()
    assert served.process.returncode == 0
    # both workers wrote their ledger rows to the one SQLite database (WAL)
    with sqlite3.connect(tmp_path / "kimi-gateway.db") as db:
        rows = db.execute(
            "SELECT count(*), count(DISTINCT substr(request_id, 1, 16)) FROM usage"
            " WHERE route = 'chat_completions' AND status = 'ok'"
        ).fetchone()
    assert rows == (20, 2)  # request ids start with a prefix of each worker's own
    assert (
        "  workers: 2 processes on one port (SO_REUSEPORT); breakers and retry budget NOT "
        "shared (no redis_url): per worker"
    ) in banner.splitlines()


def test_workers_refuse_budgets_each_would_count_alone(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("ledger:\n  budgets:\n    - period: day\n      limit_usd: 5\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env["KIMI_GATEWAY_DATA_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "kimi_gateway", "serve", "--workers", "3", "-c", str(config)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "kimi-gateway: refusing to start 3 workers with budgets (ledger.budgets) kept in "
        "memory: each worker would count them on its own, allowing 3 times what is "
        "configured. Set redis_url (state shared by the workers) or use one worker.",
    )


def test_workers_say_when_the_port_is_taken(tmp_path: Path) -> None:
    taken = socket.socket()  # no SO_REUSEPORT: the workers cannot share it
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env["KIMI_GATEWAY_DATA_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "kimi_gateway", "serve", "--workers", "2", "--port", str(port)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    finally:
        taken.close()
    said = f"kimi-gateway: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert done.returncode == 1
    assert done.stderr.splitlines().count(said) == 2  # each worker, no traceback
    assert "Traceback" not in done.stderr


def test_a_worker_that_dies_is_replaced(serve: Any) -> None:
    served = serve("--workers", "2")
    served.ready()
    pids: set[int] = set()
    while len(pids) < 2:
        pids.add(httpx.get(served.url + "/readyz").json()["pid"])
    time.sleep(SETTLE_SECONDS + 0.5)  # one that dies sooner is not replaced (it would repeat)
    killed = min(pids)
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 90
    now: set[int] = set()
    while len(now - pids) < 1 and time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            now.add(httpx.get(served.url + "/readyz").json()["pid"])
        time.sleep(0.02)
    assert len(now - pids) == 1  # a new worker answers
    new = (now - pids).pop()
    assert _parent(new) == served.process.pid
    log = served.stop()
    assert f"kimi-gateway: worker {killed} ended (-9); starting another" in log.splitlines()
    assert served.process.returncode == 0
