"""The ledger's CPU cost (issue 13 "Performance"): the gateway with the ledger off, on with
SQLite (the default) and on with PostgreSQL, in front of the benchmark's fixed nginx upstream,
every cell of ``make bench``, CPU ms per request from /proc. Writes bench/LEDGER.md.

    .venv/bin/python bench/ledger_overhead.py [--seconds 6] [--warmup 2]

Same harness as bench/run.py (benchkit: nginx on CPU 0 with wrk, the target alone on CPU 1).
PostgreSQL: the machine's (127.0.0.1:5432, database ``test``), in a schema made for the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import subprocess
import sys
from pathlib import Path

from benchkit import runner
from benchkit.cells import TargetRun, grid
from benchkit.fixtures import MODEL
from benchkit.runner import Plan, free_port, log, run_target, start_upstream, write_bodies
from benchkit.targets import Lineup, gateway_client, gateway_serve_args, gateway_spec

BENCH_DIR = Path(__file__).resolve().parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VARIANTS = {
    "ledger-off": "ledger:\n  enabled: false\n",
    "ledger-sqlite": "",  # the default: SQLite (WAL) in the data directory
    "ledger-postgres": "database_url: '{pg}'\n",
}


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql], check=True
    )


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


def _table(runs: list[TargetRun]) -> str:
    off = {m.cell.label: m.cpu_ms_per_request for m in runs[0].measurements}
    lines = [
        "| cell | "
        + " | ".join(f"{r.name} CPU ms/req" for r in runs)
        + " | sqlite / off | postgres / off |",
        "| --- | " + " | ".join("---" for _ in runs) + " | --- | --- |",
    ]
    for m in runs[0].measurements:
        label = m.cell.label
        cpus = [
            next((x.cpu_ms_per_request for x in r.measurements if x.cell.label == label), None)
            for r in runs
        ]
        ratios = [f"{c / off[label]:.3f}" if c and off[label] else "n/a" for c in cpus[1:]]
        shown = [f"{c:.3f}" if c is not None else "n/a" for c in cpus]
        lines.append(f"| {label} | " + " | ".join(shown) + " | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def writer_cpu(url: str, count: int = 20_000) -> tuple[float, float]:
    """The ledger's own CPU per generation, in this process: (the after-hook alone, the hook
    plus the writer thread's work: row, cost, insert, metrics), in microseconds."""
    import resource
    import time

    from prometheus_client import CollectorRegistry

    from kimi_gateway.core.outcome import Outcome
    from kimi_gateway.core.usage import Usage
    from kimi_gateway.ledger.db import open_database
    from kimi_gateway.ledger.prices import PriceBook
    from kimi_gateway.ledger.writer import LedgerWriter
    from kimi_gateway.server.ledger_metrics import LedgerMetrics

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    engine = open_database(url)
    prices = PriceBook()
    metrics = LedgerMetrics(CollectorRegistry(), {p.model for p in prices.prices})
    writer = LedgerWriter(engine, prices, flush_seconds=0.05, on_rows=metrics.observe_rows)
    writer.start()
    outcomes = [
        Outcome(
            "openai_chat",
            model="kimi-k2.6",
            key_id="key_x",
            stream=True,
            upstream="platform",
            upstream_model="kimi-k2.6",
            routed_upstream="platform",
            upstream_request_id="r",
            attempts=1,
            usage=Usage(100, 50, 0, 20, 5),
            usage_seen=True,
            started=1.0,
            first_event=1.1,
            ended=1.5,
            route="chat_completions",
            request_id=f"req_{n}",
        )
        for n in range(count)
    ]
    start = cpu()
    for outcome in outcomes:
        writer.record(outcome)
    hooked = cpu()
    writer.flush(120)
    done = cpu()
    writer.stop()
    engine.dispose()
    time.sleep(0)
    return 1e6 * (hooked - start) / count, 1e6 * (done - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="variants run interleaved this many times; "
        "each cell's median is reported (the machine's other load drifts)",
    )
    parser.add_argument("--c32-only", action="store_true", help="only the CPU-bound cells")
    args = parser.parse_args()
    if args.c32_only:
        runner.grid = lambda: [c for c in grid() if c.concurrency == 32]
    plan = Plan(BENCH_DIR / ".work" / "ledger", args.seconds, args.warmup)
    plan.work.mkdir(parents=True, exist_ok=True)
    schema = "bench_" + secrets.token_hex(4)
    _psql(f"CREATE SCHEMA {schema}")
    upstream_proc, upstream = start_upstream(plan)
    runs: list[TargetRun] = []
    own: dict[str, tuple[float, float]] = {}
    try:
        pg = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        own["sqlite"] = writer_cpu(f"sqlite:///{plan.work / 'writer-cpu.db'}")
        own["postgres"] = writer_cpu(pg)
        bodies = write_bodies(plan.work, MODEL)
        lineup = Lineup(
            plan.work, upstream, Path(sys.executable), None, MODEL, None, gateway_client()
        )
        rounds: dict[str, list[TargetRun]] = {name: [] for name in VARIANTS}
        for n in range(args.rounds):
            for name, extra in VARIANTS.items():
                log(f"round {n + 1}: starting {name}")
                spec = _spec(lineup, name, extra.format(pg=pg))
                rounds[name].append(run_target(plan, spec, bodies))  # type: ignore[arg-type]
        runs = [_median(name, found) for name, found in rounds.items()]
    finally:
        upstream_proc.stop()
        _psql(f"DROP SCHEMA {schema} CASCADE")
    text = (
        "# Ledger CPU overhead\n\n"
        "`bench/ledger_overhead.py`: the gateway with the ledger off, on with SQLite (default) and "
        "on with PostgreSQL, same harness and cells as `make bench` "
        f"({args.warmup:g} s warm-up, {args.seconds:g} s measured per cell; the variants run "
        f"interleaved {args.rounds} times, each cell's median shown).\n\n"
        + _table(runs)
        + "\n\nThe ledger's own CPU per generation, measured in one process (20,000 outcomes "
        "through the after-hook, then the writer thread: row, cost, batched insert, metrics):\n\n"
        "| database | after-hook (request task) µs | hook + writer µs |\n| --- | --- | --- |\n"
        + "".join(f"| {name} | {hook:.2f} | {total:.2f} |\n" for name, (hook, total) in own.items())
    )
    (BENCH_DIR / "LEDGER.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
