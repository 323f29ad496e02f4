"""Thousands of long streams held by one gateway process (issue 15 item 6).

Starts the scripted upstream of streamkit.py (one chunk per second), ``kimi-gateway serve`` in
front of it (production defaults; pool and connection limits with room for the streams), and
opens N concurrent 30-second OpenAI chat streams through it from this process (aiohttp),
ramped over a few seconds. Measures the gateway process: RSS before the burst (after a warm-up),
at its peak, and after the burst has ended and the gateway idled; CPU per chunk relayed; and
the errors the client saw (a status other than 200, a stream that did not end in ``[DONE]``, a
chunk missing). Writes the table to bench/STREAMS.md (``--out``). 127.0.0.1 only.

    .venv/bin/python bench/streams.py --streams 5000 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import streamkit

# Seconds idle before 'after' is read: aiohttp keeps an idle upstream connection 15 s, and the
# gateway hands freed memory back a few seconds after that (server/runtime.py).
AFTER = 25.0


@dataclass
class Burst:
    streams: int
    seconds: int
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    open_now: int = 0  # streams between their first chunk and their end, now
    open_peak: int = 0  # the most at once: what the memory per stream is divided by
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0
    cpu: float = 0.0
    wall: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def _body(shape: str) -> bytes:
    messages = [{"role": "user", "content": shape}]
    return orjson.dumps({"model": "kimi-k2.6", "messages": messages, "stream": True})


async def one_stream(session: aiohttp.ClientSession, url: str, body: bytes, burst: Burst) -> None:
    chunks, last, opened = 0, b"", False
    try:
        async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
            if r.status != 200:
                burst.error(f"status {r.status}")
                return
            opened = True
            burst.open_now += 1
            burst.open_peak = max(burst.open_peak, burst.open_now)
            async for line in r.content:
                if line.startswith(b"data: "):
                    last = line.strip()
                    chunks += b'"content":"tok' in line
    except (aiohttp.ClientError, TimeoutError) as exc:
        burst.error(f"{type(exc).__name__}: {exc}"[:120])
        return
    finally:
        burst.open_now -= opened
    if last != b"data: [DONE]":
        burst.error("no [DONE]")
    elif chunks != burst.seconds:
        burst.error(f"{chunks} of {burst.seconds} chunks")
    else:
        burst.ok += 1
        burst.chunks += chunks


async def _sample(pid: int, burst: Burst, done: asyncio.Event) -> None:
    while not done.is_set():
        burst.rss_peak = max(burst.rss_peak, streamkit.rss_kib(pid))
        await asyncio.sleep(0.5)


async def run_burst(url: str, pid: int, burst: Burst, ramp: float) -> None:
    """One burst of streams, ramped over ``ramp`` seconds; then the gateway left idle."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=burst.seconds + ramp + 300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        burst.rss_before = burst.rss_peak = streamkit.rss_kib(pid)
        cpu0, t0 = streamkit.cpu_seconds(pid), time.monotonic()
        done = asyncio.Event()
        sampler = asyncio.create_task(_sample(pid, burst, done))
        body = _body(f"{burst.seconds}x1")

        async def later(index: int) -> None:
            await asyncio.sleep(index * ramp / burst.streams)
            await one_stream(session, url, body, burst)

        await asyncio.gather(*(later(i) for i in range(burst.streams)))
        burst.cpu, burst.wall = streamkit.cpu_seconds(pid) - cpu0, time.monotonic() - t0
        done.set()
        await sampler
    await asyncio.sleep(AFTER)  # the gateway idle: what it keeps
    burst.rss_after = streamkit.rss_kib(pid)


async def run_bursts(gateway: streamkit.Proc, bursts: list[Burst], ramp: float) -> None:
    url = gateway.url + "/v1/chat/completions"
    warm = Burst(0, 3)
    async with aiohttp.ClientSession() as session:  # warm-up: every code path in
        await asyncio.gather(*(one_stream(session, url, _body("3x0"), warm) for _ in range(50)))
    await asyncio.sleep(3)
    for burst in bursts:
        await run_burst(url, gateway.process.pid, burst, ramp)


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def report(bursts: list[Burst], ramp: float) -> str:
    first = bursts[0]
    lines = [
        f"| burst | {first.streams:,} streams, {first.seconds} s each, one chunk per second, "
        f"opened over {ramp:g} s | |",
        "|---|---|---|",
    ]
    for number, burst in enumerate(bursts, 1):
        grown = burst.rss_peak - burst.rss_before
        per_stream = grown / burst.open_peak if burst.open_peak else 0.0
        per_chunk = burst.cpu / burst.chunks * 1e6 if burst.chunks else 0.0
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(burst.errors.items())) or "none"
        lines += [
            f"| {number} | completed, errors | {burst.ok:,}; {sum(burst.errors.values())} "
            f"({detail}) |",
            f"| {number} | most open at once | {burst.open_peak:,} |",
            f"| {number} | RSS before / peak / after (MiB) | {_mib(burst.rss_before)} / "
            f"{_mib(burst.rss_peak)} / {_mib(burst.rss_after)} |",
            f"| {number} | memory per stream | {per_stream:.1f} KiB ((peak − before) / most "
            "open) |",
            f"| {number} | CPU | {burst.cpu:.1f} s over {burst.wall:.1f} s: {per_chunk:.0f} µs "
            f"per chunk relayed ({burst.chunks:,}) |",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to open them over")
    parser.add_argument("--bursts", type=int, default=2, help="the second shows reuse")
    parser.add_argument("--out", type=Path, help="write this Markdown table there too")
    args = parser.parse_args()
    streamkit.prepare_client()
    bursts = [Burst(args.streams, args.seconds) for _ in range(args.bursts)]
    with streamkit.scratch() as work:
        upstream = streamkit.start_upstream(work)
        gateway = None
        try:
            config = streamkit.gateway_config(work, args.streams)
            gateway = streamkit.start_gateway(work, upstream, config)
            asyncio.run(run_bursts(gateway, bursts, args.ramp))
        finally:
            if gateway is not None:
                gateway.stop()
            upstream.stop()
    table = report(bursts, args.ramp)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    if any(burst.errors or burst.ok != burst.streams for burst in bursts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
