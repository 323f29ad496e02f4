"""Run the benchmark: start the fixed upstream, then each target in turn, check it answers
right, time every cell with wrk, and sample the target's CPU and memory from /proc.

CPU layout: the harness, wrk and nginx share the driver CPU; the target alone has the measured
CPU. One target runs at a time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchkit import fixtures, nginx, procstat, validate, wrk
from benchkit.cells import PATHS, Cell, Measurement, Path_, TargetRun, grid
from benchkit.targets import ENDPOINTS, Process, Spec, boost, client_headers


@dataclass(frozen=True, slots=True)
class Plan:
    work: Path
    seconds: float
    warmup: float
    driver_cpu: int = 0
    target_cpu: int = 1
    rounds: int = 1  # interleaved cells: measured this many times, the median kept


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def write_bodies(work: Path, model: str) -> dict[tuple[Path_, bool], Path]:
    """One request body file per (path, stream), for wrk and the sanity check."""
    out: dict[tuple[Path_, bool], Path] = {}
    (work / "bodies").mkdir(parents=True, exist_ok=True)
    makers = {"same": fixtures.openai_request, "translated": fixtures.anthropic_request}
    for path in PATHS:
        for stream in (False, True):
            file = work / "bodies" / f"{path}-{'stream' if stream else 'plain'}.json"
            file.write_bytes(makers[path](stream, model))
            out[(path, stream)] = file
    return out


def wait_port(port: int, proc: Process | None, timeout: float) -> str | None:
    """None once something accepts on ``port``; else why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            return f"exited with {proc.popen.returncode}:\n{proc.tail()}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return None
        except OSError:
            time.sleep(0.1)
    return f"not listening after {timeout:.0f} s"


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())
    except OSError as exc:
        return 0, str(exc).encode()


def start_upstream(plan: Plan) -> tuple[Process, str]:
    port, inner = free_port(), free_port()
    conf = nginx.write_tree(plan.work, port, inner)
    exe = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") or "nginx"
    argv = [exe, "-c", str(conf), "-p", str(plan.work)]
    proc = Process(argv, dict(os.environ), plan.work / "nginx.log", plan.driver_cpu)
    problem = wait_port(port, proc, 10)
    if problem:
        raise RuntimeError(f"nginx: {problem}")
    return proc, f"http://127.0.0.1:{port}"


def sanity(
    base: str,
    paths: tuple[Path_, ...],
    bodies: dict[tuple[Path_, bool], Path],
    extra: Mapping[str, str] | None = None,
) -> dict[Path_, str]:
    """Per path, why the target's reply is wrong (paths missing from the result are fine)."""
    problems: dict[Path_, str] = {}
    for path in paths:
        for stream in (False, True):
            headers = {**client_headers(path), **(extra or {})}
            status, body = post(
                base + ENDPOINTS[path], bodies[(path, stream)].read_bytes(), headers
            )
            error = validate.check_reply(path, stream, status, body)
            if error and path not in problems:
                problems[path] = f"{'stream' if stream else 'non-stream'}: {error}"
    return problems


def run_wrk(
    plan: Plan,
    base: str,
    cell: Cell,
    body: Path,
    seconds: float,
    extra: Mapping[str, str] | None = None,
) -> wrk.WrkResult:
    argv = wrk.command(
        base + ENDPOINTS[cell.path],
        body,
        {**client_headers(cell.path), **(extra or {})},
        concurrency=cell.concurrency,
        seconds=seconds,
        cpu=plan.driver_cpu,
    )
    load = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    boost(load.pid)
    try:
        output, _ = load.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        load.kill()
        load.communicate()
        raise
    return wrk.parse(output)


def measure(
    plan: Plan,
    base: str,
    cell: Cell,
    body: Path,
    pid: int | None,
    extra: Mapping[str, str] | None = None,
) -> Measurement:
    """Warm up, then one timed wrk run with the target's CPU sampled around it."""
    try:
        run_wrk(plan, base, cell, body, plan.warmup, extra)
        before = procstat.cpu_seconds(pid) if pid else 0.0
        busy_before, started = procstat.cpu_busy_seconds(plan.target_cpu), time.monotonic()
        result = run_wrk(plan, base, cell, body, plan.seconds, extra)
        busy = procstat.cpu_busy_seconds(plan.target_cpu) - busy_before
        wall = time.monotonic() - started
        cpu = procstat.cpu_seconds(pid) - before if pid else None
    except (wrk.WrkOutputError, subprocess.TimeoutExpired) as exc:
        return Measurement(cell, note=f"wrk failed: {exc}")
    others = max(0.0, busy - (cpu or 0.0)) / wall if pid else None
    note = f"{result.errors} errors" if result.errors else ""
    return Measurement(cell, result, cpu, note, others)


def measure_cell(
    plan: Plan,
    run: TargetRun,
    base: str,
    skipped: dict[Path_, str],
    bodies: dict[tuple[Path_, bool], Path],
    pid: int | None,
    cell: Cell,
) -> None:
    """Measure one cell of ``run`` (or note why it is skipped) and log the numbers."""
    if cell.path not in run.paths:
        return
    if cell.path in skipped:
        run.measurements.append(Measurement(cell, note=skipped[cell.path]))
        return
    m = measure(plan, base, cell, bodies[(cell.path, cell.stream)], pid, run.headers)
    cpu = m.cpu_ms_per_request
    log(
        f"{run.name:8} {cell.label:28} "
        + (f"{m.wrk.rps:9,.0f} req/s  p50 {m.wrk.p50_us / 1000:.3f} ms" if m.wrk else m.note)
        + (f"  cpu {cpu:.3f} ms/req" if cpu is not None else "")
        + (f"  others {m.interference:.0%}" if m.interference is not None else "")
    )
    run.measurements.append(m)


def run_cells(
    plan: Plan,
    run: TargetRun,
    base: str,
    skipped: dict[Path_, str],
    bodies: dict[tuple[Path_, bool], Path],
    pid: int | None,
) -> None:
    for cell in grid():
        measure_cell(plan, run, base, skipped, bodies, pid, cell)


def run_direct(plan: Plan, base: str, bodies: dict[tuple[Path_, bool], Path]) -> TargetRun:
    run = TargetRun("direct", "nginx itself (the latency baseline; its CPU is not measured)", False)
    problems = sanity(base, PATHS, bodies)
    run_cells(plan, run, base, problems, bodies, None)
    return run


@dataclass(slots=True)
class Started:
    """A target that is up and answered right (``problems``: paths it answered wrong)."""

    run: TargetRun
    proc: Process
    base: str
    problems: dict[Path_, str]


def start_target(
    plan: Plan, spec: Spec, bodies: dict[tuple[Path_, bool], Path]
) -> tuple[TargetRun, Started | None]:
    """Start ``spec`` and check its replies; None (and the run's note says why) if it did not
    come up. The caller stops a Started with :func:`stop_target`."""
    run = TargetRun(spec.name, spec.description, paths=spec.paths, headers=dict(spec.headers))
    for file, text in spec.files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    proc = Process(spec.argv, spec.env, plan.work / f"{spec.name}.log", plan.target_cpu)
    problem = wait_port(spec.port, proc, spec.startup_seconds)
    if problem:
        run.note = f"did not start: {problem.splitlines()[0]}"
        log(f"{spec.name}: {problem}")
        proc.stop()
        return run, None
    base = f"http://127.0.0.1:{spec.port}"
    try:
        problems = sanity(base, spec.paths, bodies, spec.headers)
        for path, why in problems.items():
            log(f"{spec.name}: {path} path n/a: {why}")
        time.sleep(1.0)
        run.idle_rss_kib = procstat.memory(proc.pid).rss_kib
    except BaseException:
        proc.stop()
        raise
    return run, Started(run, proc, base, problems)


def stop_target(started: Started) -> None:
    try:
        started.run.peak_rss_kib = procstat.memory(started.proc.pid).hwm_kib
    finally:
        started.proc.stop()


def run_target(plan: Plan, spec: Spec, bodies: dict[tuple[Path_, bool], Path]) -> TargetRun:
    """Start ``spec``, check it, measure every cell, stop it."""
    run, started = start_target(plan, spec, bodies)
    if started is None:
        return run
    try:
        run_cells(plan, run, started.base, started.problems, bodies, started.proc.pid)
    finally:
        stop_target(started)
    return run


def keep_median(run: TargetRun, cell: Cell) -> None:
    """Of the rounds ``run`` measured ``cell`` in, keep the one with the median CPU ms/req
    (the lower middle of an even count; rounds without a CPU figure go last)."""
    mine = [m for m in run.measurements if m.cell == cell]
    if len(mine) < 2:
        return
    ranked = sorted(mine, key=lambda m: (m.cpu_ms_per_request is None, m.cpu_ms_per_request or 0))
    valued = [m for m in ranked if m.cpu_ms_per_request is not None]
    middle = valued[(len(valued) - 1) // 2] if valued else ranked[0]
    if valued:
        log(
            f"{run.name:8} {cell.label:28} median of {len(valued)} rounds "
            f"{middle.cpu_ms_per_request:.3f} ms/req (range {valued[0].cpu_ms_per_request:.3f}-"
            f"{valued[-1].cpu_ms_per_request:.3f})"
        )
    run.measurements = [m for m in run.measurements if m.cell != cell] + [middle]


def run_interleaved(
    plan: Plan, specs: list[Spec], bodies: dict[tuple[Path_, bool], Path]
) -> list[TargetRun]:
    """Start every target, then measure cell by cell, each cell on every target in turn (the
    order reversed on every other cell): a machine whose load drifts over the minutes of a run
    then weighs on every target alike, which running one target after the other does not.
    The targets not being measured sit idle on the same CPU."""
    runs: list[TargetRun] = []
    started: list[Started] = []
    try:
        for spec in specs:
            log(f"starting {spec.name}")
            run, up = start_target(plan, spec, bodies)
            runs.append(run)
            if up is not None:
                started.append(up)
        turn = 0
        for cell in grid():
            for _ in range(max(1, plan.rounds)):
                for t in started if turn % 2 == 0 else reversed(started):
                    measure_cell(plan, t.run, t.base, t.problems, bodies, t.proc.pid, cell)
                turn += 1
            for t in started:
                keep_median(t.run, cell)
    finally:
        for t in started:
            stop_target(t)
    return runs
