"""Time to first token: what the gateway adds to the upstream's first chunk (issue 15 item 8).

The scripted upstream of streamkit.py sends its first content chunk at once (then two more,
10 ms apart). The same streaming request goes straight to it and through ``kimi-gateway serve``
(production defaults) over keep-alive connections (aiohttp), and the time from sending to the
first content chunk is taken for each; the gateway adds the difference of the medians (p50) and
of the p90s. Targets: ≤ 1 ms p50 at c=1, ≤ 5 ms at c=32. 127.0.0.1 only. Three cells:

- c=1: one client, one request after the other (``--requests`` in all).
- c=32: 32 clients, each sending its next request when the last has ended, ``--per-client``
  requests each per round. Each starts after a random pause of up to one stream's length and
  its first request is not counted, so the clients are spread over time as independent agents
  are: this is a steady 32 in flight.
- burst of 32: 32 clients sending at the same instant, three requests each. The streams all
  take the same time, so the clients stay in step, and each first chunk waits for the work of
  the 31 requests that arrived with it. No target; this shows what a thundering herd costs.
  (Before 2026-12-05 this was the harness's only c=32 cell, reported as c=32.)

    .venv/bin/python bench/ttft.py [--requests 400] [--per-client 25]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import streamkit

BODY = orjson.dumps(
    {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "3x0.01"}], "stream": True}
)
HEADERS = {"content-type": "application/json"}
ROUNDS = 4
STREAM_SECONDS = 0.02  # the scripted stream's length: its chunks come 10 ms apart
BURST_EACH = 3  # requests per client in the burst cell


async def first_token(session: aiohttp.ClientSession, url: str) -> float:
    """Seconds from sending the request to the first content chunk (the rest read too)."""
    started = time.perf_counter()
    first = 0.0
    async with session.post(url, data=BODY, headers=HEADERS) as response:
        if response.status != 200:
            raise SystemExit(f"{url}: status {response.status}")
        async for line in response.content:
            if not first and b'"content":"tok' in line:
                first = time.perf_counter() - started
    return first


async def measure(
    url: str, concurrency: int, each: int, *, spread: bool, seed: int = 0
) -> list[float]:
    """``each`` first-token times per client from ``concurrency`` clients; ``spread``: clients
    start after a random pause and their first request is not counted (steady state), else all
    start at once (a burst)."""
    times: list[float] = []
    pauses = random.Random(seed)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def warm() -> None:  # every connection open, code paths in
            for _ in range(2):
                await first_token(session, url)

        await asyncio.gather(*(warm() for _ in range(concurrency)))

        async def client(pause: float) -> None:
            await asyncio.sleep(pause)
            if spread:
                await first_token(session, url)
            for _ in range(each):
                times.append(await first_token(session, url))

        starts = [pauses.uniform(0, STREAM_SECONDS) if spread else 0.0 for _ in range(concurrency)]
        await asyncio.gather(*(client(pause) for pause in starts))
    return times


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


CELLS: tuple[tuple[str, float | None], ...] = (("1", 1.0), ("32", 5.0), ("burst of 32", None))


def report(results: dict[tuple[str, str], list[float]]) -> str:
    lines = [
        "| concurrency | upstream p50 / p90 (ms) | through the gateway p50 / p90 (ms) | "
        "gateway adds p50 / p90 (ms) | target (p50) |",
        "|---|---|---|---|---|",
    ]
    for cell, target in CELLS:
        direct, gateway = results[("direct", cell)], results[("gateway", cell)]
        d50, d90 = statistics.median(direct) * 1e3, _quantile(direct, 0.9) * 1e3
        g50, g90 = statistics.median(gateway) * 1e3, _quantile(gateway, 0.9) * 1e3
        added = g50 - d50
        verdict = "no target" if target is None else f"≤ {target:g} ms: "
        if target is not None:
            verdict += "met" if added <= target else "NOT met"
        lines.append(
            f"| {cell} | {d50:.2f} / {d90:.2f} | {g50:.2f} / {g90:.2f} | "
            f"{added:.2f} / {g90 - d90:.2f} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="c=1: requests in all")
    parser.add_argument(
        "--per-client", type=int, default=25, help="c=32: counted requests per client per round"
    )
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    args = parser.parse_args()
    results: dict[tuple[str, str], list[float]] = {}
    plans = {  # cell: (clients, requests per client, spread)
        "1": (1, max(1, args.requests // ROUNDS), False),
        "32": (32, args.per_client, True),
        "burst of 32": (32, BURST_EACH, False),
    }
    streamkit.prepare_client()
    with streamkit.scratch() as work:
        upstream = streamkit.start_upstream(work)
        gateway = None
        try:
            config = streamkit.gateway_config(work, 100)
            workers = ("--workers", str(args.workers))
            gateway = streamkit.start_gateway(work, upstream, config, *workers)
            for round_ in range(ROUNDS):  # interleaved: a busy machine disturbs both alike
                for cell, (clients, each, spread) in plans.items():
                    for name, proc in (("direct", upstream), ("gateway", gateway)):
                        url = proc.url + "/v1/chat/completions"
                        run = measure(url, clients, each, spread=spread, seed=round_)
                        results.setdefault((name, cell), []).extend(asyncio.run(run))
        finally:
            if gateway is not None:
                gateway.stop()
            upstream.stop()
    print(report(results))


if __name__ == "__main__":
    main()
