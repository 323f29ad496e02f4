"""The ledger's promise about crashes, with a real ``kimi-gateway serve`` process killed with
SIGKILL: rows of generations that ended more than ``flush_seconds`` before the kill are in the
database; a clean stop (SIGTERM) writes every row."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.ledger.db import open_database
from kimi_gateway.ledger.schema import usage

FLUSH = 0.5


def _serve(tmp: Path, emulator: EmulatorServer) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp / "gateway.yaml"
    config.write_text(f"access_log: 'off'\nledger:\n  flush_seconds: {FLUSH}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env |= {
        "KIMI_GATEWAY_DATA_DIR": str(tmp),
        "KIMI_API_KEY": "sk-crash-test",
        "KIMI_BASE_URL": emulator.platform_url,
    }
    argv = [sys.executable, "-m", "kimi_gateway", "serve", "--config", str(config)]
    process = subprocess.Popen([*argv, "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the gateway did not start")


def _ask(url: str, count: int) -> None:
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "@@text:hi@@"}]}
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(count):
            assert client.post("/v1/chat/completions", json=body).status_code == 200


def _rows(tmp: Path) -> int:
    engine = open_database(f"sqlite:///{tmp / 'kimi-gateway.db'}")
    with engine.connect() as conn:
        found = int(conn.execute(select(func.count()).select_from(usage)).scalar_one())
    engine.dispose()
    return found


@pytest.mark.parametrize("how", ["kill", "term"])
def test_a_crash_loses_at_most_the_flush_interval(
    kimi_emulator: EmulatorServer, tmp_path: Path, how: str
) -> None:
    process, url = _serve(tmp_path, kimi_emulator)
    try:
        _ask(url, 20)
        if how == "kill":
            time.sleep(FLUSH * 2)  # one flush interval (and margin) after the last request
            process.send_signal(signal.SIGKILL)
        else:
            process.send_signal(signal.SIGTERM)  # straight after: the clean stop flushes
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert _rows(tmp_path) == 20
