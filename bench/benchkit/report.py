"""The report: one results table, issue 5's target ratios with pass/fail, and bench/RESULTS.md.

Pure: Results in, text out. "Added" latency is a target's percentile minus direct nginx's for
the same cell (same path, mode and concurrency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from benchkit.cells import PATH_LABELS, Cell, Measurement, Results, TargetRun, grid

Status = Literal["pass", "fail", "n/a"]
NA = "n/a"

HEADER = (
    "| target | path | mode | c | req/s | p50 ms | +p50 ms | p99 ms | +p99 ms | CPU ms/req "
    "| idle RSS MiB | peak RSS MiB |"
)
RULE = "|" + "|".join(["---"] * 4 + ["---:"] * 8) + "|"


def _f(value: float | None, digits: int = 2) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def _mib(kib: int | None) -> str:
    return NA if kib is None else f"{kib / 1024:.0f}"


def added_ms(results: Results, m: Measurement, pct: Literal[50, 99]) -> float | None:
    """The percentile over direct nginx's for the same cell, in ms."""
    direct = results.target("direct")
    base = direct.get(m.cell) if direct else None
    if m.wrk is None or base is None or base.wrk is None:
        return None
    if pct == 50:
        return (m.wrk.p50_us - base.wrk.p50_us) / 1000
    return (m.wrk.p99_us - base.wrk.p99_us) / 1000


def _row(results: Results, t: TargetRun, m: Measurement) -> str:
    c = m.cell
    mode = "stream" if c.stream else "non-stream"
    head = f"| {t.name} | {c.path} | {mode} | {c.concurrency} "
    rss = f"| {_mib(t.idle_rss_kib)} | {_mib(t.peak_rss_kib)} |"
    if t.measures_process is False:
        rss = f"| {NA} | {NA} |"
    if m.wrk is None or not m.ok:
        why = m.note or (f"{m.wrk.errors} errors" if m.wrk else "no result")
        short = why if len(why) <= 40 else why[:37] + "..."
        return head + f"| {NA} ({short}) |" + f" {NA} |" * 5 + rss[1:]
    w = m.wrk
    cpu = m.cpu_ms_per_request if t.measures_process else None
    cells = [
        f"{w.rps:,.0f}",
        _f(w.p50_us / 1000, 3),
        _f(added_ms(results, m, 50), 3),
        _f(w.p99_us / 1000, 3),
        _f(added_ms(results, m, 99), 3),
        _f(cpu, 3),
    ]
    return head + "| " + " | ".join(cells) + " " + rss


def table(results: Results) -> str:
    """The one results table (markdown; also readable as plain text)."""
    lines = [HEADER, RULE]
    for t in results.targets:
        for cell in (c for c in grid() if c.path in t.paths):
            m = t.get(cell) or Measurement(cell, note=t.note or "not run")
            lines.append(_row(results, t, m))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Check:
    target: str  # the wording, short
    detail: str  # the numbers behind the verdict
    status: Status


def _metric(results: Results, name: str, cell: Cell) -> Measurement | None:
    t = results.target(name)
    m = t.get(cell) if t else None
    return m if m is not None and m.ok else None


def _cpu(results: Results, name: str, cell: Cell) -> float | None:
    m = _metric(results, name, cell)
    return m.cpu_ms_per_request if m else None


def _ratio_check(
    label: str, ours: float | None, theirs: float | None, limit: float, what: str
) -> Check:
    """ours ≤ theirs × limit (limit < 1: "at most 1/N"; limit > 1: "at most N×")."""
    if ours is None or theirs is None or theirs == 0:
        return Check(label, f"{what}: missing measurement", "n/a")
    ratio = ours / theirs
    bound = f"1/{1 / limit:.0f}" if limit < 1 else f"{limit:g}×"
    shown = f"1/{1 / ratio:.1f}" if 0 < ratio < 1 else f"{ratio:.2f}×"
    detail = f"{what}: {ours:.3f} vs {theirs:.3f} → {shown} (limit {bound})"
    return Check(label, detail, "pass" if ratio <= limit else "fail")


def _mode(stream: bool) -> str:
    return "stream" if stream else "non-stream"


def checks(results: Results) -> list[Check]:
    """Issue 5's targets, each evaluated where it applies, with its numbers."""
    out: list[Check] = []
    for stream in (False, True):
        for conc in (1, 32):
            cell = Cell("same", stream, conc)
            what = f"CPU ms/req, same path, {_mode(stream)}, c={conc}, gateway vs litellm"
            label = f"CPU/req {_mode(stream)} ≤ 1/10 LiteLLM (c={conc})"
            out.append(
                _ratio_check(
                    label, _cpu(results, "gateway", cell), _cpu(results, "litellm", cell), 0.1, what
                )
            )
    for stream in (False, True):
        for conc in (1, 32):
            ours = _cpu(results, "gateway", Cell("translated", stream, conc))
            theirs = _cpu(results, "litellm", Cell("same", stream, conc))
            what = f"CPU ms/req, gateway translated vs litellm same, {_mode(stream)}, c={conc}"
            label = f"translated CPU/req {_mode(stream)} ≤ 1/6 LiteLLM same (c={conc})"
            out.append(_ratio_check(label, ours, theirs, 1 / 6, what))
    out += _rps_checks(results)
    out += _latency_checks(results)
    for stream in (False, True):
        for conc in (1, 32):
            cell = Cell("same", stream, conc)
            what = f"CPU ms/req, same path, {_mode(stream)}, c={conc}, gateway vs floor"
            label = f"CPU/req {_mode(stream)} ≤ 1.5 × floor (c={conc})"
            out.append(
                _ratio_check(
                    label, _cpu(results, "gateway", cell), _cpu(results, "floor", cell), 1.5, what
                )
            )
    out.append(_rss_check(results))
    return out


def _rps_checks(results: Results) -> list[Check]:
    out = []
    for stream in (False, True):
        cell = Cell("same", stream, 32)
        ours, theirs = _metric(results, "gateway", cell), _metric(results, "litellm", cell)
        label = f"req/s {_mode(stream)} c=32 ≥ 10 × LiteLLM"
        if ours is None or theirs is None or ours.wrk is None or theirs.wrk is None:
            out.append(Check(label, "missing measurement", "n/a"))
            continue
        ratio = ours.wrk.rps / theirs.wrk.rps
        detail = f"req/s: {ours.wrk.rps:,.0f} vs {theirs.wrk.rps:,.0f} → {ratio:.1f}× (limit 10×)"
        out.append(Check(label, detail, "pass" if ratio >= 10 else "fail"))
    return out


def _latency_checks(results: Results) -> list[Check]:
    out = []
    for cell in (c for c in grid() if c.concurrency == 1):
        m = _metric(results, "gateway", cell)
        added = added_ms(results, m, 50) if m else None
        label = f"added p50 ≤ 1 ms ({cell.path}, {_mode(cell.stream)}, c=1)"
        if added is None:
            out.append(Check(label, "missing measurement", "n/a"))
            continue
        detail = f"+p50 over direct: {added:.3f} ms (limit 1 ms)"
        out.append(Check(label, detail, "pass" if added <= 1.0 else "fail"))
    return out


def _rss_check(results: Results) -> Check:
    gw, ll = results.target("gateway"), results.target("litellm")
    ours = gw.idle_rss_kib if gw else None
    theirs = ll.idle_rss_kib if ll else None
    label = "idle RSS ≤ 1/4 LiteLLM"
    return _ratio_check(
        label,
        None if ours is None else ours / 1024,
        None if theirs is None else theirs / 1024,
        0.25,
        "idle RSS MiB, gateway vs litellm",
    )


def checks_table(items: list[Check]) -> str:
    lines = ["| target | result | numbers |", "|---|---|---|"]
    lines += [f"| {c.target} | **{c.status}** | {c.detail} |" for c in items]
    return "\n".join(lines)


def _facts(results: Results) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in results.facts.items())


def _targets(results: Results) -> str:
    return "\n".join(f"- **{t.name}**: {t.description}" for t in results.targets)


def results_markdown(
    results: Results,
    notes: str,
    render: Callable[[Results], str] = table,
    sections: str = "",
) -> str:
    """The whole bench/RESULTS.md; ``sections`` (whole markdown sections, such as the
    --baseline comparison) go after the issue's targets."""
    items = checks(results)
    summary = {s: sum(1 for c in items if c.status == s) for s in ("pass", "fail", "n/a")}
    paths = "; ".join(f"`{key}` = {label}" for key, label in PATH_LABELS.items())
    extra = f"\n{sections.rstrip()}\n" if sections else ""
    return f"""# Benchmark results

Regenerated by `make bench` (bench/run.py); do not edit by hand. Every number below comes
from the run whose facts are listed here.

## Machine and versions

{_facts(results)}

## Targets under test

{_targets(results)}

Paths: {paths}. Each cell: warm-up, then {results.seconds_per_cell:g} s of wrk on CPU 0
(1 thread, c connections, keep-alive); the process under test alone on CPU 1. "+p50/+p99" are
over direct nginx for the same cell. CPU ms/req = (utime+stime of the process tree over the
measured run) / completed requests. Idle RSS: after start and one request of each kind;
peak RSS: VmHWM at the end.

## Results

{render(results)}

## Issue 5 targets

{summary["pass"]} pass, {summary["fail"]} fail, {summary["n/a"]} n/a.

{checks_table(items)}
{extra}
## Notes

{notes}
"""
