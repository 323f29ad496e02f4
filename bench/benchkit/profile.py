"""Profile a target under load and summarise where its CPU goes, per request.

``--profile gateway[,floor]`` starts a fresh process and, for each cell in :data:`CELLS` it
serves, drives it with wrk four times: unsampled (CPU ms/request), under non-blocking
``py-spy record`` (a flame graph: bench/.work/profile-<target>-<cell>.svg), under
``py-spy record --native`` (collapsed stacks with C frames: .txt) and under ``strace -c``
(syscalls per request). The summaries (benchkit/stacks.py, benchkit/syscalls.py) go to
bench/.work/profile-<target>.md.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchkit import procstat, wrk
from benchkit.cells import Cell, Path_
from benchkit.runner import Plan, log, run_wrk, sanity, wait_port
from benchkit.stacks import parse_collapsed, summary
from benchkit.syscalls import parse_strace_summary, per_request_table
from benchkit.targets import Process, Spec, boost

CELLS = (Cell("same", False, 32), Cell("same", True, 32), Cell("translated", True, 32))


CAVEAT = (
    "Shares come from `py-spy record --native` (complete stacks, C code included, idle samples "
    "dropped) and are scaled by the CPU ms/request of an unsampled run just before. py-spy "
    "pauses the process per sample, which over-weights very short syscalls (getpid): trust "
    "the strace counts for those. Flame graphs (non-blocking, Python frames): "
    "bench/.work/profile-<target>-<cell>.svg."
)


@dataclass(frozen=True, slots=True)
class Tools:
    py_spy: Path
    strace: Path | None


def _spy(tools: Tools, pid: int, out: Path, *extra: str) -> list[str]:
    argv = [str(tools.py_spy), "record", "--pid", str(pid), "--rate", "200"]
    return [*argv, "--full-filenames", "-o", str(out), *extra]


def _sampled(
    plan: Plan, pid: int, load: tuple[str, Cell, Path], samplers: list[list[str]]
) -> tuple[wrk.WrkResult, float]:
    """Run ``samplers`` (on the driver CPU) around one timed wrk run; stop them with SIGINT
    after it. Returns wrk's result and the target's CPU seconds during the run."""
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    for argv in samplers:
        proc = subprocess.Popen(
            ["taskset", "-c", str(plan.driver_cpu), *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        boost(proc.pid)
        procs.append((Path(argv[0]).name, proc))
    time.sleep(1.0)  # let the samplers attach
    try:
        before = procstat.cpu_seconds(pid)
        result = run_wrk(plan, *load, max(4.0, plan.seconds))
        cpu = procstat.cpu_seconds(pid) - before
    finally:
        for _, proc in procs:
            proc.send_signal(signal.SIGINT)
        for name, proc in procs:
            _, err = proc.communicate(timeout=60)
            if proc.returncode not in (0, -signal.SIGINT, 130):
                log(f"{name}: {err.decode(errors='replace')[-300:]}")
    return result, cpu


def _profile_cell(
    plan: Plan, tools: Tools, name: str, pid: int, load: tuple[str, Cell, Path]
) -> str:
    """Four runs of one cell: clean (the CPU ms/req that scales the shares), non-blocking
    py-spy (a flame graph to look at), native py-spy (the tables), strace (syscall counts)."""
    cell = load[1]
    tag = f"{name}-{cell.path}-{'stream' if cell.stream else 'plain'}-c{cell.concurrency}"
    result, cpu = _sampled(plan, pid, load, [])
    ms = cpu * 1000 / result.requests if result.requests else 0.0
    _sampled(plan, pid, load, [_spy(tools, pid, plan.work / f"profile-{tag}.svg", "--nonblocking")])
    native = plan.work / f"profile-{tag}.txt"
    _sampled(plan, pid, load, [_spy(tools, pid, native, "--native", "--format", "raw")])
    title = f"{name}, {cell.label}: {result.rps:,.0f} req/s unsampled"
    parts = [summary(parse_collapsed(_read(native)), ms, title)]
    if tools.strace is not None:
        trace = plan.work / f"strace-{tag}.txt"
        argv = [str(tools.strace), "-f", "-c", "-o", str(trace), "-p", str(pid)]
        result, _ = _sampled(plan, pid, load, [argv])
        counts = parse_strace_summary(_read(trace))
        parts += [
            f"Syscalls per request (strace -c over {result.requests} requests):",
            "",
            per_request_table(counts, result.requests),
            "",
        ]
    return "\n".join(parts)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def profile_target(
    plan: Plan, spec: Spec, bodies: dict[tuple[Path_, bool], Path], tools: Tools
) -> str:
    """Profile a fresh ``spec`` process on the cells in :data:`CELLS` it serves; return the
    markdown section for it."""
    for file, text in spec.files.items():
        file.write_text(text)
    proc = Process(spec.argv, spec.env, plan.work / f"{spec.name}-profile.log", plan.target_cpu)
    try:
        problem = wait_port(spec.port, proc, spec.startup_seconds)
        base = f"http://127.0.0.1:{spec.port}"
        if problem or sanity(base, spec.paths, bodies, spec.headers):
            why = problem or "wrong replies"
            log(f"profile: {spec.name} not serving: {why}")
            return f"## {spec.name}\n\nnot profiled: {why}\n"
        parts = [f"## {spec.name}", ""]
        for cell in (c for c in CELLS if c.path in spec.paths):
            log(f"profiling {spec.name} {cell.label}")
            load = (base, cell, bodies[(cell.path, cell.stream)])
            parts.append(_profile_cell(plan, tools, spec.name, proc.pid, load))
    finally:
        proc.stop()
    return "\n".join(parts)


def profile_markdown(sections: list[str], facts: dict[str, str]) -> str:
    """The whole bench/PROFILE.md."""
    head = [
        "# Profiles under load",
        "",
        "Regenerated by `make bench BENCH_ARGS=--profile` (bench/benchkit/profile.py); do not "
        "edit by hand.",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
        CAVEAT,
        "",
    ]
    return "\n".join([*head, *sections])
