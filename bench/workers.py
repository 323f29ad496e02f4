"""Requests per second at c=32 with ``serve --workers 1`` and ``--workers 2`` (issue 15 item 7).

The simple cell: a small OpenAI chat request, not streamed, to the scripted upstream of
streamkit.py (which streams one chunk; the request names no ``max_tokens``, so the default
``upstream_stream: auto`` streams it and the gateway folds it),
driven by wrk (32 connections, one thread) for ``--seconds`` after a warm-up, each worker count
in turn, ``--rounds`` times interleaved. Reports req/s, the gateway's CPU per request and the
ratio 2 workers / 1. 127.0.0.1 only; needs ``wrk`` (``make bench`` installs it).

    .venv/bin/python bench/workers.py --seconds 10
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import streamkit

LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"kimi-k2.6","messages":[{"role":"user","content":"1x0"}]}'
"""


def wrk(url: str, seconds: float, script: Path) -> float:
    """Requests per second wrk measured (non-2xx replies make it stop the run)."""
    done = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds:g}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in done.stdout:
        raise SystemExit("wrk saw errors:\n" + done.stdout)
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if found is None:
        raise SystemExit("no Requests/sec in wrk's output:\n" + done.stdout)
    return float(found.group(1))


def run(work: Path, upstream: streamkit.Proc, workers: int, seconds: float) -> tuple[float, float]:
    """(req/s, gateway CPU ms per request) with ``workers`` processes."""
    script = work / "chat.lua"
    script.write_text(LUA)
    gateway = streamkit.start_gateway(
        work, upstream, streamkit.gateway_config(work, 100), "--workers", str(workers)
    )
    try:
        url = gateway.url + "/v1/chat/completions"
        wrk(url, 3, script)  # warm-up: every worker's connections and code paths
        cpu0 = streamkit.cpu_seconds(gateway.process.pid)
        rate = wrk(url, seconds, script)
        cpu = streamkit.cpu_seconds(gateway.process.pid) - cpu0
    finally:
        gateway.stop()
    return rate, cpu / (rate * seconds) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rates: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    streamkit.prepare_client()
    with streamkit.scratch() as work:
        upstream = streamkit.start_upstream(work)
        try:
            for _ in range(args.rounds):
                for workers in (1, 2):
                    rates[workers].append(run(work, upstream, workers, args.seconds))
        finally:
            upstream.stop()
    print("| workers | req/s at c=32 (each round) | CPU ms per request |")
    print("|---|---|---|")
    for workers, runs in rates.items():
        each = ", ".join(f"{rate:.0f}" for rate, _ in runs)
        cpu = ", ".join(f"{ms:.2f}" for _, ms in runs)
        print(f"| {workers} | {each} | {cpu} |")
    one = sum(r for r, _ in rates[1]) / len(rates[1])
    two = sum(r for r, _ in rates[2]) / len(rates[2])
    print(f"\n2 workers / 1: {two / one:.2f} × the requests per second")


if __name__ == "__main__":
    main()
