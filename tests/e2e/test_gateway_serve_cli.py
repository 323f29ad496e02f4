"""`kimi-gateway serve` as a user runs it on a fresh machine (what `make serve` does): no Kimi
key, so it runs against the built-in emulator, says so loudly, marks every reply, and the
official SDKs work against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx
import openai


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_without_a_key_runs_on_the_emulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env["KIMI_GATEWAY_DATA_DIR"] = str(tmp_path)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kimi_gateway", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(base + "/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
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
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert "NO KIMI KEY CONFIGURED: replies come from the built-in OFFLINE EMULATOR" in stderr
    assert "auth: OPTIONAL" in stderr
    assert f"kimi-gateway 0.1.0 on http://127.0.0.1:{port}" in stderr
    assert '"route":"chat_completions"' in stderr  # the JSON access log (stderr by default)
