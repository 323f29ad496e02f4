"""`kimi-gateway serve` as a user runs it on a fresh machine (what `make serve` does): no Kimi
key, so it runs against the built-in emulator, says so loudly, marks every reply, and the
official SDKs work against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import anthropic
import httpx
import openai


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """The CLI in a child process; stderr collected by a thread as it comes."""

    def __init__(self, tmp: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
        env["KIMI_GATEWAY_DATA_DIR"] = str(tmp)
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kimi_gateway", "serve", "--port", str(self.port)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_listening(self, timeout: float = 90) -> bool:
        """True once the gateway answers /readyz; False if the process ended first (its port
        was taken). uvicorn's own "running on" line is not awaited: the in-process emulator's
        uvicorn lowers the shared "uvicorn.error" logger to warnings."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1)
                return True
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("serve did not start:\n" + self.stderr)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return self.stderr


def _start(tmp: Path) -> Served:
    for _ in range(3):  # another process may take the free port before the child binds it
        served = Served(tmp)
        if served.wait_listening():
            return served
        served.stop()
    raise AssertionError("serve could not bind a port:\n" + served.stderr)


def test_serve_without_a_key_runs_on_the_emulator(tmp_path: Path) -> None:
    served = _start(tmp_path)
    base = f"http://127.0.0.1:{served.port}"
    try:
        ready = httpx.get(base + "/readyz", timeout=10)
        assert ready.headers["x-kimi-gateway-upstream"] == "emulator"
        oai = openai.OpenAI(base_url=base + "/v1", api_key="anything", max_retries=0)
        reply = oai.chat.completions.with_raw_response.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "@@text:from the emulator@@"}]
        )
        assert reply.headers["x-kimi-gateway-upstream"] == "emulator"
        assert reply.parse().choices[0].message.content == "from the emulator"
        ant = anthropic.Anthropic(base_url=base, api_key="anything", max_retries=0)
        with ant.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=200,
            messages=[{"role": "user", "content": "@@text:streamed@@"}],
        ) as stream:
            assert "".join(stream.text_stream) == "streamed"
    except BaseException:
        print(served.stop())  # shown by pytest for the failing test
        raise
    stderr = served.stop()
    assert "NO KIMI KEY CONFIGURED: replies come from the built-in OFFLINE EMULATOR" in stderr
    assert "auth: OPTIONAL" in stderr
    assert f"kimi-gateway 0.1.0 on http://127.0.0.1:{served.port}" in stderr
    assert '"route":"chat_completions"' in stderr  # the JSON access log (stderr by default)
