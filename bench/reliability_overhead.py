"""The reliability layer's cost (issue 12 "Performance"): the gateway with retries and the
breaker off and no limits (the plain path), with retries, breaker and limits on in memory, and
the same with the limits in Redis, in front of the benchmark's fixed nginx upstream (no faults),
every cell of ``make bench``: CPU ms per request from /proc, and p50 latency. Writes
bench/RELIABILITY.md.

    .venv/bin/python bench/reliability_overhead.py [--seconds 6] [--warmup 2] [--rounds 3]

Same harness as bench/run.py (benchkit: nginx on CPU 0 with wrk, the target alone on CPU 1).
Redis: the machine's (127.0.0.1:6379), under a key prefix made for the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
from pathlib import Path

from benchkit import runner
from benchkit.cells import Cell, Measurement, TargetRun, grid
from benchkit.fixtures import MODEL
from benchkit.runner import Plan, free_port, log, run_target, start_upstream, write_bodies
from benchkit.targets import Lineup, gateway_client, gateway_serve_args, gateway_spec

BENCH_DIR = Path(__file__).resolve().parent
# Limits far above what the benchmark sends: admitted every time, but every admission counted.
_LIMITS = (
    "  limits:\n"
    "    accounts:\n"
    "      platform: {concurrency: 100000, rpm: 100000000, tpm: 1000000000000}\n"
)
VARIANTS = {
    "plain": "reliability:\n  retry: {enabled: false}\n  breaker: {enabled: false}\n",
    "reliable": "reliability:\n" + _LIMITS,
    "reliable-redis": "redis_url: redis://127.0.0.1:6379/0\nreliability:\n"
    + _LIMITS
    + "  redis_prefix: {prefix}\n",
}


def _spec(lineup: Lineup, name: str, extra: str) -> object:
    port = free_port()
    base = gateway_spec(lineup, port)
    config = lineup.work / f"{name}.yaml"
    text = next(iter(base.files.values())).replace("gateway-data", f"{name}-data") + extra
    argv = [*base.argv[:1], *gateway_serve_args(config, port)]
    return dataclasses.replace(base, name=name, argv=argv, files={config: text})


def _median(name: str, runs: list[TargetRun]) -> TargetRun:
    """One run whose measurements have each cell's median CPU per request."""
    merged = TargetRun(name, runs[0].description, paths=runs[0].paths)
    for index, first in enumerate(runs[0].measurements):
        found = [r.measurements[index] for r in runs if len(r.measurements) > index]
        found = [m for m in found if m.cpu_ms_per_request is not None]
        if not found:
            merged.measurements.append(first)
            continue
        found.sort(key=lambda m: m.cpu_ms_per_request or 0.0)
        merged.measurements.append(found[len(found) // 2])
    return merged


def _p50(m: Measurement | None) -> str:
    return f"{m.wrk.p50_us / 1000:.2f}" if m is not None and m.wrk is not None else "n/a"


def _table(runs: list[TargetRun]) -> str:
    head = " | ".join(f"{r.name} CPU ms/req" for r in runs)
    lines = [
        f"| cell | {head} | reliable / plain | redis / plain | p50 ms plain / reliable / redis |",
        "| --- | " + " | ".join("---" for _ in runs) + " | --- | --- | --- |",
    ]
    for m in runs[0].measurements:
        label = m.cell.label
        found = [next((x for x in r.measurements if x.cell.label == label), None) for r in runs]
        cpus = [x.cpu_ms_per_request if x is not None else None for x in found]
        base = cpus[0]
        ratios = [f"{c / base:.3f}" if c and base else "n/a" for c in cpus[1:]]
        shown = [f"{c:.3f}" if c is not None else "n/a" for c in cpus]
        p50 = " / ".join(_p50(x) for x in found)
        lines.append(f"| {label} | " + " | ".join([*shown, *ratios, p50]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved; medians reported")
    parser.add_argument("--c32-only", action="store_true", help="only the CPU-bound cells")
    parser.add_argument("--only", default="", help="comma-separated variants (default: all)")
    args = parser.parse_args()
    if args.c32_only:
        every = grid

        def only_c32(*args: tuple[int, ...]) -> list[Cell]:
            return [c for c in every(*args) if c.concurrency == 32]

        runner.grid = only_c32  # type: ignore[attr-defined,assignment]
    plan = Plan(BENCH_DIR / ".work" / "reliability", args.seconds, args.warmup)
    plan.work.mkdir(parents=True, exist_ok=True)
    prefix = "kimi-gateway-bench-" + secrets.token_hex(4)
    upstream_proc, upstream = start_upstream(plan)
    try:
        bodies = write_bodies(plan.work, MODEL)
        lineup = Lineup(
            plan.work, upstream, Path(sys.executable), None, MODEL, None, gateway_client()
        )
        chosen = {k: v for k, v in VARIANTS.items() if not args.only or k in args.only.split(",")}
        rounds: dict[str, list[TargetRun]] = {name: [] for name in chosen}
        for n in range(args.rounds):
            for name, extra in chosen.items():
                log(f"round {n + 1}: starting {name}")
                spec = _spec(lineup, name, extra.replace("{prefix}", prefix))
                rounds[name].append(run_target(plan, spec, bodies))  # type: ignore[arg-type]
        runs = [_median(name, found) for name, found in rounds.items()]
    finally:
        upstream_proc.stop()
    text = (
        "# Reliability CPU overhead\n\n"
        "`bench/reliability_overhead.py`: the gateway with retries and breaker off and no limits "
        "(plain), with retries, breaker and account limits on in memory (reliable), and the same "
        "with the limits in Redis (reliable-redis), no faults; same harness and cells as "
        f"`make bench` ({args.warmup:g} s warm-up, {args.seconds:g} s measured per cell; the "
        f"variants run interleaved {args.rounds} times, each cell's median shown).\n\n"
        + _table(runs)
        + "\n"
    )
    (BENCH_DIR / "RELIABILITY.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
