"""``kimi-gateway serve`` as a real process (a replica) on 127.0.0.1, configured by a YAML file:
what the shutdown and multi-replica tests drive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

from kimi_gateway.settings import ENV_NAMES


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        """Access-log lines, health probes left out."""
        text = self.log.read_text() if self.log.exists() else ""
        lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
        return [line for line in lines if line["route"] not in ("healthz", "readyz", "metrics")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_served(directory: Path, config: dict[str, Any]) -> Served:
    """A gateway process with ``config`` (port, data_dir, access_log filled in)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full = {
        "port": port,
        "data_dir": str(directory),
        "access_log": str(directory / "access.log"),
        **config,
    }
    path = directory / "gateway.yaml"
    path.write_text(yaml.safe_dump(full))
    env = {k: v for k, v in os.environ.items() if not any(k in n for n in ENV_NAMES.values())}
    process = subprocess.Popen(
        [sys.executable, "-m", "kimi_gateway", "serve", "--config", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.txt").open("wb"),
    )
    served = Served(process, f"http://127.0.0.1:{port}", directory / "access.log")
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(served.url + "/healthz", timeout=1)
            return served
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                served.stop()
                raise RuntimeError("the gateway did not start") from None
            time.sleep(0.1)
