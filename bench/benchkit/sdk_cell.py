"""The ``sdk`` target (issue 14): no server, so no wrk. Each same-path cell runs
bench/sdk_load.py once, pinned to the measured CPU at top priority like every target; the
process measures its own calls, latencies and CPU over the timed run, and the harness reads its
one ``SDK_JSON`` line (:func:`parse`, pure) into the same Measurement a wrk cell gives, with
the CPU others used on that CPU during its run as interference.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchkit import procstat
from benchkit.cells import Cell, Measurement, Path_, TargetRun, grid
from benchkit.fixtures import CONTENT_PIECES
from benchkit.targets import BENCH_DIR, ROOT, boost, clean_env
from benchkit.wrk import WrkResult

MARK = "SDK_JSON "
EXPECTED_TEXT = "".join(CONTENT_PIECES)  # the fixed upstream's reply
DESCRIPTION = (
    "kimi_gateway.AsyncKimi in one process (bench/sdk_load.py): c tasks calling the engine "
    "in-process against the same nginx upstream; CPU of that whole process per call "
    "(OpenAI-style calls only: the SDK speaks one dialect)"
)


@dataclass(frozen=True, slots=True)
class SdkResult:
    wrk: WrkResult
    cpu_seconds: float
    total_cpu_seconds: float
    peak_rss_kib: int
    text: str


def parse(output: str) -> SdkResult:
    """The summary line of sdk_load.py's stdout; ValueError if there is none."""
    for line in output.splitlines():
        if line.startswith(MARK):
            data = orjson.loads(line[len(MARK) :])
            wrk = WrkResult(
                requests=int(data["requests"]),
                duration_us=int(data["duration_us"]),
                errors=int(data["errors"]),
                p50_us=int(data["p50_us"]),
                p90_us=int(data["p90_us"]),
                p99_us=int(data["p99_us"]),
                mean_us=float(data["mean_us"]),
            )
            return SdkResult(
                wrk,
                float(data["cpu_seconds"]),
                float(data["total_cpu_seconds"]),
                int(data["peak_rss_kib"]),
                str(data["text"]),
            )
    raise ValueError(output.strip()[-500:] or "no output")


def command(
    python: Path, upstream: str, body: Path, cell: Cell, seconds: float, warmup: float, cpu: int
) -> list[str]:
    argv = [
        "taskset",
        "-c",
        str(cpu),
        str(python),
        str(BENCH_DIR / "sdk_load.py"),
        "--upstream",
        upstream,
        "--body",
        str(body),
        "--concurrency",
        str(cell.concurrency),
        "--seconds",
        f"{seconds:g}",
        "--warmup",
        f"{warmup:g}",
    ]
    return [*argv, "--stream"] if cell.stream else argv


def measure(argv: list[str], cell: Cell, cpu: int, timeout: float) -> tuple[Measurement, int]:
    """One cell; with the peak RSS of its process (0 when it failed)."""
    busy, started = procstat.cpu_busy_seconds(cpu), time.monotonic()
    load = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=clean_env({}),
        start_new_session=True,
    )
    boost(load.pid)
    try:
        output, _ = load.communicate(timeout=timeout)
        found = parse(output)
    except (subprocess.TimeoutExpired, ValueError) as exc:
        load.kill()
        load.communicate()
        return Measurement(cell, note=f"sdk_load failed: {str(exc)[-200:]}"), 0
    wall = time.monotonic() - started
    others = max(0.0, procstat.cpu_busy_seconds(cpu) - busy - found.total_cpu_seconds) / wall
    note = f"{found.wrk.errors} errors" if found.wrk.errors else ""
    if found.text != EXPECTED_TEXT:
        note = f"wrong reply: {found.text[:60]!r}"
        return Measurement(cell, note=note), found.peak_rss_kib
    return Measurement(cell, found.wrk, found.cpu_seconds, note, others), found.peak_rss_kib


def run_sdk(
    work: Path,
    upstream: str,
    bodies: dict[tuple[Path_, bool], Path],
    seconds: float,
    warmup: float,
    cpu: int,
    log: Callable[[str], None],
) -> TargetRun:
    """Every same-path cell, one sdk_load.py process each."""
    run = TargetRun("sdk", DESCRIPTION, paths=("same",))
    for cell in (c for c in grid() if c.path == "same"):
        argv = command(
            Path(sys.executable),
            upstream,
            bodies[("same", cell.stream)],
            cell,
            seconds,
            warmup,
            cpu,
        )
        m, rss = measure(
            [*argv, "--data-dir", str(work / "sdk-data")], cell, cpu, seconds + warmup + 120
        )
        run.peak_rss_kib = max(run.peak_rss_kib or 0, rss) or None
        run.measurements.append(m)
        cpu_ms = m.cpu_ms_per_request
        log(
            f"sdk      {cell.label:28} "
            + (f"{m.wrk.rps:9,.0f} calls/s  p50 {m.wrk.p50_us / 1000:.3f} ms" if m.wrk else m.note)
            + (f"  cpu {cpu_ms:.3f} ms/call" if cpu_ms is not None else "")
            + (f"  others {m.interference:.0%}" if m.interference is not None else "")
        )
    return run
