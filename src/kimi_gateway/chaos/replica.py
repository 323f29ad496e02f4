"""A gateway replica for the chaos suite: ``kimi-gateway serve`` as its own process on
127.0.0.1 and a free port, configured by a YAML file in a scratch directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

# The environment variables the settings read: a replica gets none of the machine's.
_SCRUB = ("KIMI_", "MOONSHOT_")


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    url: str
    directory: Path

    def metrics(self) -> dict[str, float]:
        """The replica's Prometheus samples, by name with labels (sums for the same name)."""
        text = httpx.get(self.url + "/metrics", timeout=5).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                base = name.split("{", 1)[0]
                samples[base] = samples.get(base, 0.0) + float(value)
        return samples

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_replica(directory: Path, config: dict[str, Any]) -> Replica:
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    full = {
        "host": "127.0.0.1",
        "port": port,
        "data_dir": str(directory),
        "access_log": str(directory / "access.log"),
        **config,
    }
    (directory / "gateway.yaml").write_text(yaml.safe_dump(full))
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kimi_gateway",
            "serve",
            "--config",
            str(directory / "gateway.yaml"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.txt").open("wb"),
    )
    replica = Replica(process, f"http://127.0.0.1:{port}", directory)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(replica.url + "/healthz", timeout=1)
            return replica
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                replica.kill()
                raise RuntimeError(f"a gateway replica did not start (see {directory})") from None
            time.sleep(0.1)
