"""Time to first token: what the gateway adds to the upstream's first chunk (issue 15 item 8).

The scripted upstream of streamkit.py sends its first content chunk at once. The same streaming
request goes straight to it and through ``kimi-gateway serve`` (production defaults), at
concurrency 1 and 32 over keep-alive connections (aiohttp), and the time from sending to the
first content chunk is taken for each; the gateway adds the difference of the medians (p50) and
of the p90s. Targets: ≤ 1 ms p50 at c=1, ≤ 5 ms at c=32. 127.0.0.1 only.

    .venv/bin/python bench/ttft.py --requests 400
"""

from __future__ import annotations

import argparse
import asyncio
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


async def measure(url: str, concurrency: int, requests: int) -> list[float]:
    times: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(concurrency * 2):  # warm-up: connections open, code paths in
            await first_token(session, url)

        async def worker(count: int) -> None:
            for _ in range(count):
                times.append(await first_token(session, url))

        each = max(1, requests // concurrency)
        await asyncio.gather(*(worker(each) for _ in range(concurrency)))
    return times


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


def report(results: dict[tuple[str, int], list[float]]) -> str:
    lines = [
        "| concurrency | upstream p50 / p90 (ms) | through the gateway p50 / p90 (ms) | "
        "gateway adds p50 / p90 (ms) | target (p50) |",
        "|---|---|---|---|---|",
    ]
    for concurrency, target in ((1, 1.0), (32, 5.0)):
        direct, gateway = results[("direct", concurrency)], results[("gateway", concurrency)]
        d50, d90 = statistics.median(direct) * 1e3, _quantile(direct, 0.9) * 1e3
        g50, g90 = statistics.median(gateway) * 1e3, _quantile(gateway, 0.9) * 1e3
        added = g50 - d50
        met = "met" if added <= target else "NOT met"
        lines.append(
            f"| {concurrency} | {d50:.2f} / {d90:.2f} | {g50:.2f} / {g90:.2f} | "
            f"{added:.2f} / {g90 - d90:.2f} | ≤ {target:g} ms: {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="per cell")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    args = parser.parse_args()
    results: dict[tuple[str, int], list[float]] = {}
    streamkit.prepare_client()
    with streamkit.scratch() as work:
        upstream = streamkit.start_upstream(work)
        gateway = None
        try:
            config = streamkit.gateway_config(work, 100)
            workers = ("--workers", str(args.workers))
            gateway = streamkit.start_gateway(work, upstream, config, *workers)
            for _ in range(ROUNDS):  # interleaved: a busy machine disturbs both alike
                for concurrency in (1, 32):
                    for name, proc in (("direct", upstream), ("gateway", gateway)):
                        url = proc.url + "/v1/chat/completions"
                        times = asyncio.run(measure(url, concurrency, args.requests // ROUNDS))
                        results.setdefault((name, concurrency), []).extend(times)
        finally:
            if gateway is not None:
                gateway.stop()
            upstream.stop()
    print(report(results))


if __name__ == "__main__":
    main()
