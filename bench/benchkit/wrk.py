"""The load driver: wrk with bench/wrk/post.lua, pinned to the driver CPU.

:func:`command` builds the argv; :func:`parse` reads the one ``BENCH_JSON`` line the Lua
``done`` hook prints (latencies in microseconds, as wrk keeps them). Both pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

LUA = Path(__file__).resolve().parent.parent / "wrk" / "post.lua"
MARK = "BENCH_JSON "


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    duration_us: int
    errors: int  # connect + read + write + timeouts + non-2xx/3xx statuses
    p50_us: int
    p90_us: int
    p99_us: int
    mean_us: float

    @property
    def rps(self) -> float:
        return self.requests * 1e6 / self.duration_us if self.duration_us else 0.0


class WrkOutputError(Exception):
    """wrk printed no summary line (it failed to start, or the script broke)."""


def command(
    url: str,
    body_file: Path,
    headers: dict[str, str],
    *,
    concurrency: int,
    seconds: float,
    cpu: int,
) -> list[str]:
    """argv for one wrk run: one thread (the driver has one CPU), ``concurrency`` connections."""
    return [
        "taskset",
        "-c",
        str(cpu),
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(body_file),
        *(f"{name}:{value}" for name, value in headers.items()),
    ]


def parse(output: str) -> WrkResult:
    """The summary from wrk's stdout."""
    for line in output.splitlines():
        if line.startswith(MARK):
            data = orjson.loads(line[len(MARK) :])
            errors = sum(
                int(data[key])
                for key in (
                    "connect_errors",
                    "read_errors",
                    "write_errors",
                    "status_errors",
                    "timeouts",
                )
            )
            return WrkResult(
                requests=int(data["requests"]),
                duration_us=int(data["duration_us"]),
                errors=errors,
                p50_us=int(data["p50_us"]),
                p90_us=int(data["p90_us"]),
                p99_us=int(data["p99_us"]),
                mean_us=float(data["mean_us"]),
            )
    raise WrkOutputError(output.strip()[-500:] or "no output")
