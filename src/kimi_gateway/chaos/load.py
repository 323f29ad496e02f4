"""Concurrent load for the chaos suite: ``count`` chat requests at ``concurrency`` at a time,
spread over the given gateway URLs, each with a client deadline; what each one got."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True, slots=True)
class Result:
    status: int  # 0: no answer (transport failure or the client deadline)
    seconds: float
    complete: bool  # a 200 whose body ended properly ([DONE] for a stream)
    retry_after: str | None
    error: str | None = None


def body(index: int, stream: bool, text: str) -> dict[str, object]:
    return {
        "model": "kimi-k2.6",
        "stream": stream,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": f"@@text:{text} {index}@@"}],
    }


async def _one(
    session: aiohttp.ClientSession, url: str, index: int, stream: bool, text: str
) -> Result:
    started = time.perf_counter()
    try:
        async with session.post(url + "/v1/chat/completions", json=body(index, stream, text)) as r:
            raw = await r.read()
            ended = raw.rstrip().endswith(b"data: [DONE]") if stream else r.status == 200
            complete = r.status == 200 and ended and b'"error"' not in raw[-300:]
            return Result(
                r.status, time.perf_counter() - started, complete, r.headers.get("retry-after")
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Result(0, time.perf_counter() - started, False, None, type(exc).__name__)


async def run_load(
    urls: Sequence[str],
    count: int,
    concurrency: int,
    *,
    stream: bool = False,
    deadline: float = 60.0,
    text: str = "chaos",
) -> list[Result]:
    """Send ``count`` requests, ``concurrency`` in flight, round robin over ``urls``."""
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=deadline)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def one(index: int) -> Result:
            async with gate:
                return await _one(session, urls[index % len(urls)], index, stream, text)

        return list(await asyncio.gather(*(one(i) for i in range(count))))
