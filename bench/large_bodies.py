"""The request sizes coding agents really send, served (issue 15 items 2 and 4).

Same harness as ``make bench`` (nginx as the fixed Kimi upstream and wrk on CPU 0, the gateway
alone on CPU 1, its CPU read from /proc), with the captured Claude Code, OpenClaw and Codex
requests and the two ~150 KB agent histories of benchkit/large.py as the bodies, streaming and
not. Gateways run side by side, measured cell by cell: the default (``upstream_stream:
always``), ``upstream_stream: match`` (non-stream cells only: for a streaming client both
stream from Kimi) and, with ``--modes …,nomemo``, the default with the message memo off
(``message_memo_bytes: 0``). Prints a markdown table with CPU ms per request and per MB of body.

    .venv/bin/python bench/large_bodies.py [--seconds 5] [--warmup 1] [--concurrency 1]
                                           [--only claude-code,long-openai]
                                           [--modes always,match,nomemo,portkey,ccr]
                                           [--rounds 3]
                                           [--ref BEFORE,AFTER]

``--ref`` runs the gateway of each git REF instead of the working tree (a worktree under
bench/.work, as ``run.py --baseline`` makes), so a before/after pair is measured cell by cell
without other people's uncommitted edits.

Needs nginx and wrk (``make bench`` installs them); 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import baseline, large, peers, procstat, wrk
from benchkit.fixtures import MODEL
from benchkit.runner import Plan, free_port, post, start_upstream, wait_port
from benchkit.targets import (
    CLIENT_KEY,
    ENDPOINTS,
    Lineup,
    Process,
    boost,
    clean_env,
    gateway_config,
    gateway_serve_args,
)

PROJECT_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
WORK = Path(__file__).resolve().parent / ".work"


@dataclass(frozen=True, slots=True)
class Gateway:
    name: str  # "[<short sha>/]always" or "…/match": its code and its upstream_stream; a peer
    proc: Process
    base: str
    headers: Mapping[str, str] = field(default_factory=dict)  # a peer's routing headers
    routes: tuple[str, ...] = ()  # the routes it serves (a peer: its paths); () all


# Node peers (benchkit/peers.py) as --modes: Portkey on the OpenAI route, ccr on the Anthropic.
PEERS = {"portkey": peers.portkey_spec, "ccr": peers.ccr_spec}


@dataclass(frozen=True, slots=True)
class Row:
    body: large.LargeBody
    size: int
    stream: bool
    mode: str
    result: wrk.WrkResult | None
    cpu_seconds: float | None
    note: str = ""

    @property
    def cpu_ms(self) -> float | None:
        if self.result is None or self.cpu_seconds is None or not self.result.requests:
            return None
        return self.cpu_seconds * 1000 / self.result.requests


def headers(route: str) -> dict[str, str]:
    if route == "/v1/messages":
        return {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    return {"Authorization": f"Bearer {CLIENT_KEY}"}


def start_gateway(plan: Plan, upstream: str, mode: str, ref: str) -> Gateway:
    port = free_port()
    name = f"{ref}/{mode}" if ref else mode
    tag = name.replace("/", "-")
    config = plan.work / f"gateway-{tag}.yaml"
    text = gateway_config(upstream, plan.work / f"data-{tag}", "-")
    extra = "upstream_stream: always\nmessage_memo_bytes: 0\n" if mode == "nomemo" else ""
    config.write_text(text + (extra or f"upstream_stream: {mode}\n"))
    argv = [str(PROJECT_BIN / "kimi-gateway"), *gateway_serve_args(config, port)]
    if ref:
        tree = baseline.prepare(WORK, ref, PROJECT_BIN / "python")
        code = baseline.bootstrap(tree.src) + baseline.RUN_CLI
        argv = [str(PROJECT_BIN / "python"), "-c", code, *gateway_serve_args(config, port)]
        name = f"{tree.short}/{mode}"
    proc = Process(argv, clean_env({}), plan.work / f"gateway-{tag}.log", plan.target_cpu)
    problem = wait_port(port, proc, 60)
    if problem:
        proc.stop()
        raise RuntimeError(f"gateway ({name}): {problem}")
    return Gateway(name, proc, f"http://127.0.0.1:{port}")


def start_peer(plan: Plan, upstream: str, name: str) -> Gateway:
    """A Node peer, installed with npm under bench/.work as ``make bench`` does."""
    peers.install_peers(WORK, [name], no_install=False)
    lineup = Lineup(WORK, upstream, PROJECT_BIN / "python", None, MODEL)
    spec = PEERS[name](lineup, free_port())
    for file, text in spec.files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    proc = Process(spec.argv, spec.env, plan.work / f"{name}.log", plan.target_cpu)
    problem = wait_port(spec.port, proc, spec.startup_seconds)
    if problem:
        proc.stop()
        raise RuntimeError(f"{name}: {problem}")
    routes = tuple(ENDPOINTS[path] for path in spec.paths)
    return Gateway(name, proc, f"http://127.0.0.1:{spec.port}", dict(spec.headers), routes)


def check(gateway: Gateway, body: large.LargeBody, file: Path) -> str | None:
    sent = {**headers(body.route), **gateway.headers}
    status, reply = post(gateway.base + body.route, file.read_bytes(), sent)
    if status != 200 or b"benchmark" not in reply:
        return f"{status}: {reply[:300]!r}"
    return None


def timed(
    plan: Plan, gateway: Gateway, body: large.LargeBody, file: Path, stream: bool, conc: int
) -> Row:
    def run(seconds: float) -> wrk.WrkResult:
        argv = wrk.command(
            gateway.base + body.route,
            file,
            {**headers(body.route), **gateway.headers},
            concurrency=conc,
            seconds=seconds,
            cpu=plan.driver_cpu,
        )
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        boost(load.pid)
        output, _ = load.communicate(timeout=seconds + 60)
        return wrk.parse(output)

    size = file.stat().st_size
    problem = check(gateway, body, file)
    if problem:
        return Row(body, size, stream, gateway.name, None, None, problem)
    run(plan.warmup)
    before = procstat.cpu_seconds(gateway.proc.pid)
    result = run(plan.seconds)
    cpu = procstat.cpu_seconds(gateway.proc.pid) - before
    note = f"{result.errors} errors" if result.errors else ""
    return Row(body, size, stream, gateway.name, result, cpu, note)


def table(rows: list[Row]) -> str:
    lines = [
        "| body | path | KB | client | upstream_stream | req/s | p50 ms | CPU ms/req | CPU ms/MB |",
        "|---|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        mode = "stream" if r.stream else "non-stream"
        cpu = r.cpu_ms
        if r.result is None or cpu is None:
            lines.append(
                f"| {r.body.name} | {r.body.path} | {r.size / 1000:.1f} | {mode} | {r.mode} "
                f"| n/a | | | {r.note} |"
            )
            continue
        lines.append(
            f"| {r.body.name} | {r.body.path} | {r.size / 1000:.1f} | {mode} | {r.mode} "
            f"| {r.result.rps:,.0f} | {r.result.p50_us / 1000:.2f} | {cpu:.2f} "
            f"| {cpu / (r.size / 1e6):.1f} |"
        )
    return "\n".join(lines)


def write_bodies(work: Path, bodies: list[large.LargeBody]) -> dict[tuple[str, bool], Path]:
    out: dict[tuple[str, bool], Path] = {}
    for body in bodies:
        for stream in (False, True):
            file = work / f"{body.name}-{'stream' if stream else 'plain'}.json"
            file.write_bytes(body.encoded(stream, MODEL))
            out[(body.name, stream)] = file
    return out


def measure(
    plan: Plan, gateways: list[Gateway], bodies: list[large.LargeBody], conc: int, rounds: int
) -> list[Row]:
    """Every cell on every gateway, ``rounds`` times over (the gateways' order reversed each
    time); per cell and gateway the round of median CPU per request."""
    files = write_bodies(plan.work, bodies)
    runs: dict[tuple[str, bool, str], list[Row]] = {}
    for n in range(rounds):
        for body in bodies:
            for stream in (False, True):
                for gateway in gateways if n % 2 == 0 else gateways[::-1]:
                    if stream and gateway.name.endswith("match"):
                        continue  # a streaming client is streamed upstream either way
                    if gateway.routes and body.route not in gateway.routes:
                        continue  # a peer's other path
                    row = timed(plan, gateway, body, files[(body.name, stream)], stream, conc)
                    runs.setdefault((body.name, stream, gateway.name), []).append(row)
                    cpu = f"{row.cpu_ms:.3f}" if row.cpu_ms is not None else row.note
                    print(f"bench: {n} {body.name} {stream} {gateway.name}: {cpu}", file=sys.stderr)
    return [_median(rows) for rows in runs.values()]


def _median(rows: list[Row]) -> Row:
    measured = sorted((r for r in rows if r.cpu_ms is not None), key=lambda r: r.cpu_ms or 0.0)
    return measured[len(measured) // 2] if measured else rows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="report each cell's median")
    parser.add_argument("--only", default="", help="comma-separated body names")
    parser.add_argument(
        "--modes",
        default="always,match",
        help="gateway variants: always, match (upstream_stream), nomemo (always, memo off); "
        "peers: portkey (OpenAI route), ccr (Anthropic route)",
    )
    parser.add_argument("--ref", default="", help="comma-separated git refs (default: tree)")
    args = parser.parse_args()
    bodies = [b for b in large.bodies() if not args.only or b.name in args.only.split(",")]
    work = WORK / "large"  # under bench/.work: nginx's workers must read it (not a 0700 tmp)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    plan = Plan(work, args.seconds, args.warmup)
    nginx, upstream = start_upstream(plan)
    gateways: list[Gateway] = []
    try:
        for name in [m for m in args.modes.split(",") if m in PEERS]:
            gateways.append(start_peer(plan, upstream, name))
        for ref in args.ref.split(","):
            for mode in [m for m in args.modes.split(",") if m not in PEERS]:
                try:
                    gateways.append(start_gateway(plan, upstream, mode, ref))
                except RuntimeError as exc:  # e.g. nomemo on a ref older than the setting
                    print(f"bench: skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        time.sleep(1)
        rows = measure(plan, gateways, bodies, args.concurrency, args.rounds)
    finally:
        for gateway in gateways:
            gateway.proc.stop()
        nginx.stop()
    print(table(rows))


if __name__ == "__main__":
    main()
