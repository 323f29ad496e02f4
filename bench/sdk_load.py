"""The SDK cell's load (issue 14 "The in-process path adds no more CPU per call than the
gateway's hot path"): ``kimi_gateway.AsyncKimi`` in this process calling the benchmark's nginx
upstream, ``--concurrency`` tasks each calling in a loop, for a warm-up and then a timed run.

Prints one ``SDK_JSON {...}`` line: calls and latency percentiles of the timed run (µs, as
wrk reports them), this process's CPU seconds over it (every thread: the loop, the engine,
the HTTP client), its total CPU and peak RSS. bench/benchkit/sdk_cell.py runs it pinned to
the measured CPU, once per cell.

    python bench/sdk_load.py --upstream http://127.0.0.1:PORT --body FILE --concurrency 32
                             [--stream] [--seconds 6] [--warmup 2] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from typing import Any

import orjson

from kimi_gateway import AsyncKimi
from kimi_gateway.sdk import ChatResult

MARK = "SDK_JSON "
UPSTREAM_KEY = "sk-bench-upstream-key"  # benchkit/targets.py (nginx ignores it)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _call(kimi: AsyncKimi, body: dict[str, Any], stream: bool) -> str:
    fields = {k: v for k, v in body.items() if k not in ("messages", "stream", "model")}
    if not stream:
        result: ChatResult = await kimi.chat(body["messages"], model=body["model"], **fields)
        return result.text
    chat = await kimi.chat(body["messages"], model=body["model"], stream=True, **fields)
    return "".join([delta.text async for delta in chat])


async def _worker(
    kimi: AsyncKimi, body: dict[str, Any], stream: bool, until: float, took: list[float]
) -> int:
    errors = 0
    while (start := time.perf_counter()) < until:
        try:
            await _call(kimi, body, stream)
        except Exception:  # counted, as wrk counts failed requests
            errors += 1
            continue
        took.append(time.perf_counter() - start)
    return errors


async def _run(
    kimi: AsyncKimi, body: dict[str, Any], args: argparse.Namespace, seconds: float
) -> tuple[list[float], int]:
    until = time.perf_counter() + seconds
    took: list[float] = []
    workers = [_worker(kimi, body, args.stream, until, took) for _ in range(args.concurrency)]
    errors = sum(await asyncio.gather(*workers))
    return took, errors


def _pct(sorted_us: list[int], pct: float) -> int:
    if not sorted_us:
        return 0
    return sorted_us[min(len(sorted_us) - 1, int(len(sorted_us) * pct / 100))]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    async with AsyncKimi(
        UPSTREAM_KEY, args.upstream + "/v1", data_dir=args.data_dir, model="kimi-k2.6"
    ) as kimi:
        body = orjson.loads(args.body.read_bytes())
        check = await _call(kimi, body, args.stream)  # the reply must be the fixed one
        await _run(kimi, body, args, args.warmup)
        cpu, wall = _cpu(), time.perf_counter()
        took, errors = await _run(kimi, body, args, args.seconds)
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    us = sorted(int(t * 1e6) for t in took)
    return {
        "requests": len(us),
        "duration_us": int(wall * 1e6),
        "errors": errors,
        "p50_us": _pct(us, 50),
        "p90_us": _pct(us, 90),
        "p99_us": _pct(us, 99),
        "mean_us": sum(us) / len(us) if us else 0.0,
        "cpu_seconds": cpu,
        "total_cpu_seconds": _cpu(),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "text": check,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--body", type=Path, required=True, help="an OpenAI Chat request body")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--data-dir", type=Path, default=None)
    return parser.parse_args(argv)


if __name__ == "__main__":
    found = asyncio.run(main(parse_args(sys.argv[1:])))
    print(MARK + orjson.dumps(found).decode(), flush=True)
