"""The parts bench/streams.py and bench/ttft.py share: a scripted streaming upstream, the
gateway started as ``kimi-gateway serve`` in front of it, and /proc readings of a process tree.
127.0.0.1 only; nothing here talks to Kimi.

The upstream (``python bench/streamkit.py PORT``) answers ``POST /v1/chat/completions`` with an
OpenAI chat stream whose shape the last user message gives: ``CHUNKSxINTERVAL`` (``30x1``:
thirty content chunks one second apart, the first at once), then a final chunk with usage and
``[DONE]``. A non-streaming request gets the same content folded in one JSON body.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def prepare_client() -> int:
    """This process (the client) at top priority, its soft open-files limit raised to the hard
    one (holding 5,000 streams takes 5,000 descriptors); the limit."""
    boost(os.getpid())
    return raise_fd_limit()


def raise_fd_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def boost(pid: int) -> None:
    """Top CPU priority for ``pid`` (nice -20, and its session's autogroup), as bench/run.py
    gives its targets: on a shared machine the measured processes win their CPUs; on a quiet
    one this changes nothing. Quietly nothing without the right to do it."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, -20)
        autogroup = Path(f"/proc/{pid}/autogroup")
        if autogroup.exists():
            autogroup.write_text("-20")
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chunk(index: int, content: str | None, finish: str | None = None) -> bytes:
    delta = {"content": content} if content is not None else {}
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "kimi-k2.6",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if finish is not None:
        body["usage"] = {"prompt_tokens": 8, "completion_tokens": index, "total_tokens": 8 + index}
    return b"data: " + orjson.dumps(body) + b"\n\n"


def _shape(body: dict[str, object]) -> tuple[int, float]:
    messages = body.get("messages")
    text = str(messages[-1].get("content", "")) if isinstance(messages, list) else ""
    count, _, interval = text.partition("x")
    return int(count or 1), float(interval or 0)


async def _chat(request: web.Request) -> web.StreamResponse:
    body = orjson.loads(await request.read())
    count, interval = _shape(body)
    if not body.get("stream"):
        return web.json_response(_folded(count))
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for index in range(count):
        if index:
            await asyncio.sleep(interval)
        await response.write(_chunk(index, f"tok{index} "))
    await response.write(_chunk(count, None, "stop") + b"data: [DONE]\n\n")
    return response


def _folded(count: int) -> dict[str, object]:
    content = "".join(f"tok{index} " for index in range(count))
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "kimi-k2.6",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": count, "total_tokens": 8 + count},
    }


def run_upstream(port: int) -> None:
    raise_fd_limit()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _chat)
    web.run_app(app, host="127.0.0.1", port=port, print=None, backlog=4096, access_log=None)


@dataclass
class Proc:
    """A child process and where its output went."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_upstream(work: Path) -> Proc:
    port = free_port()
    log = work / "upstream.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [PYTHON, __file__, str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    boost(process.pid)
    proc = Proc(process, f"http://127.0.0.1:{port}", log)
    wait_for(proc, "/v1/chat/completions", method="POST")
    return proc


def gateway_config(work: Path, streams: int, workers: int = 1) -> Path:
    """The production defaults, with room for ``streams`` at once (pool and connections)."""
    room = streams + 100
    config = work / "gateway.yaml"
    config.write_text(
        f"server:\n  upstream_pool_size: {room}\n  workers: {workers}\n"
        f"security:\n  connections:\n    max_connections: {room}\n"
        "reliability:\n  shutdown:\n    drain_seconds: 1\n"
    )
    return config


def start_gateway(work: Path, upstream: Proc, config: Path, *args: str) -> Proc:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env.update(
        KIMI_API_KEY="sk-bench-not-a-real-key",
        KIMI_BASE_URL=upstream.url + "/v1",
        KIMI_GATEWAY_DATA_DIR=str(work / "data"),
        KIMI_GATEWAY_ACCESS_LOG=str(work / "access.log"),
        KIMI_GATEWAY_LOG_LEVEL="warning",
    )
    log = work / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [PYTHON, "-m", "kimi_gateway", "serve", "--port", str(port), "-c", str(config), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    boost(process.pid)  # forked workers inherit it
    proc = Proc(process, f"http://127.0.0.1:{port}", log)
    wait_for(proc, "/readyz")
    return proc


def wait_for(proc: Proc, path: str, method: str = "GET", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    body = orjson.dumps({"messages": [{"role": "user", "content": "1x0"}]})
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise SystemExit(f"{proc.log.name} ended:\n{proc.log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", int(proc.url.rsplit(":", 1)[1])), 1):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        if asyncio.run(_answers(proc.url + path, method, body)):
            return
        time.sleep(0.1)
    raise SystemExit(f"{proc.url} did not start")


async def _answers(url: str, method: str, body: bytes) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url, data=body) as response,
        ):
            await response.read()
            return response.status == 200
    except aiohttp.ClientError:
        return False


def tree(root: int) -> list[int]:
    """``root`` and its live descendants (the workers of ``serve --workers N``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """utime + stime of ``root`` and its descendants."""
    ticks = 0
    for pid in tree(root):
        try:
            rest = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = rest[rest.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def rss_kib(root: int) -> int:
    """Resident memory of ``root`` and its descendants (statm: cheap to read often)."""
    total = 0
    for pid in tree(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
        except OSError:
            continue
    return total


@contextmanager
def scratch() -> Iterator[Path]:
    """A scratch directory under bench/.work (gitignored), removed afterwards."""
    import shutil
    import tempfile

    base = ROOT / "bench" / ".work"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="streams-", dir=base))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_upstream(int(sys.argv[1]))
