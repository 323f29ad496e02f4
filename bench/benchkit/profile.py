"""Profile the gateway under load with py-spy and summarise where its CPU goes, per request.

``--profile`` starts a fresh gateway, drives chosen cells with wrk while ``py-spy record``
samples it (non-blocking, raw collapsed stacks), and writes bench/.work/profile-<cell>.txt
(the stacks), profile-<cell>.svg (a flame graph) and profile-summary.md: the top functions by
inclusive and self time and the self time per package, in CPU ms per request. Summaries are
computed by pure functions over the collapsed-stack text.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchkit import procstat, wrk
from benchkit.cells import Cell, Path_
from benchkit.runner import Plan, log, sanity, wait_port
from benchkit.targets import ENDPOINTS, Process, Spec, client_headers

CELLS = (Cell("same", False, 32), Cell("same", True, 32), Cell("translated", True, 32))
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


@dataclass(frozen=True, slots=True)
class Stacks:
    samples: int
    inclusive: Counter[str]  # frame label → samples with it anywhere on the stack
    self_: Counter[str]  # frame label → samples with it on top
    packages: Counter[str]  # package → samples whose top frame is in it


def package_of(frame: str) -> str:
    """Where a py-spy frame label ``func (file:line)`` comes from: a site-packages package,
    ``kimi_gateway.<subpackage>``, ``stdlib:<module>``, or the file name."""
    match = _FRAME.match(frame)
    file = match.group("file") if match else frame
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "kimi_gateway/" in file:
        parts = file.split("kimi_gateway/", 1)[1].split("/")
        return "kimi_gateway." + (parts[0].removesuffix(".py") if parts else "")
    stdlib = re.search(r"/lib/python3\.\d+/([^/]+)", file)
    if stdlib:
        return "stdlib:" + stdlib.group(1).removesuffix(".py")
    return file or frame


def _short(frame: str) -> str:
    """``func (file:line)`` → ``func (package)``: lines vary, packages group."""
    match = _FRAME.match(frame)
    func = match.group("func") if match else frame
    return f"{func} ({package_of(frame)})"


def parse_collapsed(text: str) -> Stacks:
    """Aggregate py-spy ``--format raw`` output (``frame;frame;… count`` per line, root first)."""
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        for label in {_short(f) for f in frames}:
            inclusive[label] += count
        self_[_short(frames[-1])] += count
        packages[package_of(frames[-1])] += count
    return Stacks(total, inclusive, self_, packages)


def summary(stacks: Stacks, cpu_ms_per_request: float, title: str, top: int = 20) -> str:
    """Markdown: the heaviest frames and packages, as share and as CPU ms per request."""

    def rows(counter: Counter[str]) -> list[str]:
        out = ["| CPU ms/req | share | frame |", "|---:|---:|---|"]
        for label, count in counter.most_common(top):
            share = count / stacks.samples if stacks.samples else 0.0
            out.append(f"| {share * cpu_ms_per_request:.4f} | {share:.1%} | `{label}` |")
        return out

    parts = [
        f"### {title}",
        "",
        f"{stacks.samples} samples; {cpu_ms_per_request:.3f} CPU ms/request during the run.",
        "",
        "Self time by package:",
        "",
        *rows(stacks.packages),
        "",
        "Self time by frame:",
        "",
        *rows(stacks.self_),
        "",
        "Inclusive time by frame:",
        "",
        *rows(stacks.inclusive),
        "",
    ]
    return "\n".join(parts)


def _record(
    plan: Plan, exe: Path, pid: int, seconds: int, out: Path, fmt: str
) -> subprocess.Popen[bytes]:
    argv = ["taskset", "-c", str(plan.driver_cpu), str(exe), "record", "--pid", str(pid)]
    argv += ["--duration", str(seconds), "--rate", "250", "--nonblocking", "--format", fmt]
    argv += ["-o", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _profile_cell(plan: Plan, exe: Path, proc: Process, base: str, cell: Cell, body: Path) -> str:
    tag = cell.label.replace("/", "-")
    seconds = max(4, round(plan.seconds))
    argv = wrk.command(
        base + ENDPOINTS[cell.path],
        body,
        client_headers(cell.path),
        concurrency=cell.concurrency,
        seconds=seconds + 2,
        cpu=plan.driver_cpu,
    )
    load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    before = procstat.cpu_seconds(proc.pid)
    raw = plan.work / f"profile-{tag}.txt"
    spies = [
        _record(plan, exe, proc.pid, seconds, raw, "raw"),
        _record(plan, exe, proc.pid, seconds, plan.work / f"profile-{tag}.svg", "flamegraph"),
    ]
    for spy in spies:
        _, err = spy.communicate(timeout=seconds + 60)
        if spy.returncode != 0:
            log(f"py-spy failed: {err.decode(errors='replace')[-300:]}")
    output, _ = load.communicate(timeout=seconds + 60)
    cpu = procstat.cpu_seconds(proc.pid) - before
    result = wrk.parse(output)
    per_request = cpu * 1000 / result.requests if result.requests else 0.0
    stacks = parse_collapsed(raw.read_text() if raw.exists() else "")
    title = f"gateway, {cell.label} ({result.rps:,.0f} req/s under two py-spy samplers)"
    return summary(stacks, per_request, title)


def profile_gateway(
    plan: Plan, spec: Spec, bodies: dict[tuple[Path_, bool], Path], exe: Path
) -> Path | None:
    """Profile a fresh gateway on the cells in :data:`CELLS`; return the summary file."""
    for file, text in spec.files.items():
        file.write_text(text)
    proc = Process(spec.argv, spec.env, plan.work / "gateway-profile.log", plan.target_cpu)
    try:
        problem = wait_port(spec.port, proc, spec.startup_seconds)
        base = f"http://127.0.0.1:{spec.port}"
        if problem or sanity(base, spec.paths, bodies):
            log(f"profile: gateway not serving: {problem or 'wrong replies'}")
            return None
        parts = ["# Gateway profile (py-spy, Python frames, idle excluded)", ""]
        for cell in CELLS:
            log(f"profiling gateway {cell.label}")
            body = bodies[(cell.path, cell.stream)]
            parts.append(_profile_cell(plan, exe, proc, base, cell, body))
    finally:
        proc.stop()
    out = plan.work / "profile-summary.md"
    out.write_text("\n".join(parts))
    log(f"wrote {out}")
    return out
