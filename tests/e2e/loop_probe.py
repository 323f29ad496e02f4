"""Processes and probes for measuring how responsive a gateway stays while it works through one
large request (issue 10 item 4): the emulator and the gateway each in a child process of its
own (so neither shares the GIL with the other or with the test), ``/healthz`` probed on a fixed
schedule, and the gateway's resident memory read from /proc.

The probe is open-loop: a probe starts every ``interval`` seconds whether or not the previous
one has answered, on a connection of its own, and its latency counts from when it was due. A
stalled loop therefore shows up in every probe it delays, not just in one.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PLATFORM_KEY = "sk-test-loop-probe-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process ended ({process.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Stack:
    """An emulator and a gateway in front of it, each a child process."""

    tmp: Path
    config: str = ""  # gateway YAML
    url: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> Stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
        emulator_port, port = free_port(), free_port()
        emulator = f"http://127.0.0.1:{emulator_port}"
        self._spawn(["emulate", "--port", str(emulator_port)], env)
        _wait(emulator + "/v1/models", self.processes[-1])
        config = self.tmp / "gateway.yaml"
        config.write_text(self.config)
        env.update(
            KIMI_API_KEY=PLATFORM_KEY,
            KIMI_BASE_URL=emulator + "/v1",
            KIMI_ANTHROPIC_BASE_URL=emulator + "/anthropic",
            KIMI_GATEWAY_DATA_DIR=str(self.tmp),
            KIMI_GATEWAY_ACCESS_LOG="off",
        )
        self._spawn(["serve", "--port", str(port), "--config", str(config)], env)
        self.url = f"http://127.0.0.1:{port}"
        _wait(self.url + "/healthz", self.processes[-1])
        return self

    def _spawn(self, args: list[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "kimi_gateway", *args]
        self.processes.append(
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    @property
    def gateway_pid(self) -> int:
        return self.processes[-1].pid

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.gateway_pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class Prober:
    """``GET /healthz`` every ``interval`` seconds in a thread of its own, until stopped."""

    def __init__(self, url: str, interval: float = 0.01) -> None:
        parts = url.removeprefix("http://").split(":")
        self.host, self.port = parts[0], int(parts[1])
        self.interval = interval
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        tasks: set[asyncio.Task[None]] = set()
        while not self._stop.is_set():
            task = loop.create_task(self._probe(due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            due += self.interval
            await asyncio.sleep(max(0.0, due - loop.time()))
        await asyncio.gather(*tasks)

    async def _probe(self, due: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(60):
                reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                reply = await reader.read()
                writer.close()
            if not reply.startswith(b"HTTP/1.1 200"):
                self.failures += 1
        except (OSError, TimeoutError):
            self.failures += 1
            return
        self.latencies.append(loop.time() - due)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def measure_baseline(url: str, seconds: float = 1.5) -> float:
    """The probe's p99 (seconds) with nothing else to do: what the machine itself adds."""
    with Prober(url) as prober:
        time.sleep(seconds)
    return prober.percentile(0.99)
