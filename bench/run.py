"""``make bench``: the side-by-side benchmark of issue 5, one command, 127.0.0.1 only.

Starts nginx as a fixed-response Kimi upstream, then direct nginx, the bare relay floor (with
the gateway's HTTP client; "floor-alt" with the other client), our gateway (plain, with its
production features on, and with them sharing state through Redis and PostgreSQL, interleaved
cell by cell; benchkit/production.py), the SDK in-process (benchkit/sdk_cell.py), the Node
peers Portkey and claude-code-router (benchkit/peers.py) and LiteLLM's proxy one after another
(each alone on CPU 1; wrk and nginx on CPU 0), prints one table and the
issue's target ratios, and regenerates bench/RESULTS.md (and bench/PROFILE.md with --profile).

    python bench/run.py [--seconds 6] [--warmup 2] [--only direct,floor,gateway]
                        [--profile gateway,floor] [--baseline REF] [--new REF]

``--baseline REF`` adds ``gateway@<short sha>``, the gateway at git REF (benchkit/baseline.py),
measured interleaved with ``gateway`` cell by cell (``--sequential``: one after the other), and
a section comparing the two gateways' CPU per request cell by cell (benchkit/compare.py).
``--new REF`` runs the ``gateway`` target from a worktree of REF too, instead of the working
tree (whose uncommitted edits would otherwise be measured with the change under test).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchkit import (
    baseline,
    compare,
    install,
    ledger_cpu,
    machine,
    peers,
    profile,
    report,
    sdk_cell,
    sections,
)
from benchkit.baseline import Baseline
from benchkit.cells import Path_, Results, TargetRun
from benchkit.fixtures import MODEL
from benchkit.production import (
    BARE,
    PROD,
    SHARED,
    SharedState,
    bare_spec,
    prod_spec,
    shared_spec,
)
from benchkit.runner import (
    Plan,
    free_port,
    log,
    run_direct,
    run_interleaved,
    run_target,
    start_upstream,
    write_bodies,
)
from benchkit.targets import (
    Lineup,
    Spec,
    boost,
    floor_alt_spec,
    floor_spec,
    gateway_client,
    gateway_spec,
    litellm_spec,
)

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
TARGETS = (
    "direct",
    "floor",
    "floor-alt",
    "gateway",
    BARE,
    PROD,
    SHARED,
    "sdk",
    "portkey",
    "ccr",
    "litellm",
)
# Measured interleaved cell by cell (unless --sequential): their ratios are the point. The
# gateways, and the peers that the CPU and req/s targets compare them with (issue 15): on this
# VM a cell's CPU ms/request drifts by 10-40 % over the minutes of a run, so a peer measured
# a quarter of an hour after the gateway was compared with a different machine.
GATEWAYS = ("gateway", BARE, PROD, SHARED)
INTERLEAVED = (*GATEWAYS, "portkey", "ccr")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="kimi-gateway side-by-side benchmark")
    parser.add_argument("--seconds", type=float, default=6.0, help="timed run per cell")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up run per cell")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="interleaved gateways: measure each cell this many times and keep the median",
    )
    parser.add_argument("--only", default=",".join(TARGETS), help="comma list of targets")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="gateway",
        default="",
        help="py-spy and strace these targets under load (default: gateway)",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get/pip install")
    parser.add_argument("--results", type=Path, default=None, help="where to write the report")
    parser.add_argument(
        "--baseline",
        metavar="REF",
        default="",
        help="also run the gateway at git REF (target gateway@<sha>, a worktree under "
        "bench/.work) and compare CPU ms/req per cell",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="run the gateways (plain, production, shared, --baseline) and the Node peers one "
        "after the other, not interleaved cell by cell",
    )
    parser.add_argument(
        "--ledger-cpu",
        action="store_true",
        help="also measure the ledger's own CPU per generation in this process (SQLite and "
        "PostgreSQL) and report it",
    )
    parser.add_argument(
        "--new",
        metavar="REF",
        default="",
        help="run the gateway target from a worktree of git REF, not the working tree",
    )
    return parser.parse_args()


def specs(
    lineup: Lineup, names: list[str], trees: dict[str, Baseline], shared: SharedState
) -> list[Spec]:
    """The targets ``names``; those in ``trees`` run that git worktree's gateway."""
    builders: dict[str, Callable[[Lineup, int], Spec]] = {
        "floor": floor_spec,
        "floor-alt": floor_alt_spec,
        "gateway": gateway_spec,
        BARE: bare_spec,
        PROD: prod_spec,
        SHARED: lambda lineup, port: shared_spec(lineup, port, shared),
        "portkey": peers.portkey_spec,
        "ccr": peers.ccr_spec,
        "litellm": litellm_spec,
    }
    out = []
    for name in names:
        if name in trees:
            out.append(baseline.baseline_spec(lineup, free_port(), trees[name], name))
        elif name in builders:
            out.append(builders[name](lineup, free_port()))
    return out


def raise_priority() -> str:
    """Whether wrk, nginx and the targets can run at top priority (see targets.boost)."""
    probe = subprocess.Popen(["sleep", "0.2"], start_new_session=True)
    ok = boost(probe.pid)
    probe.wait()
    if not ok:
        return "default (not permitted to raise; other load on the machine skews results)"
    return "nice -20 and autogroup -20 for wrk, nginx and every target"


def notes(runs: list[TargetRun], plan: Plan, interleaved: bool = True) -> str:
    lines = [
        "- Reproduce: `make bench` (or `python bench/run.py --help`). Logs and generated configs: "
        "`bench/.work/`.",
        "- Upstream: nginx 1 worker on CPU 0 serving files (bench/benchkit/nginx.py); the SSE "
        "body is 20 `data:` chunks + `[DONE]` sent with a Content-Length, so it usually arrives "
        'in one read. nginx picks JSON or SSE from `"stream": true` in the body.',
        "- The gateway runs its production defaults apart from the upstream base URL and key "
        "and `anthropic_route: translate`; its access log goes to stderr, captured to a file. "
        "With the default `upstream_stream: auto` its non-streaming requests, which ask for "
        "`max_tokens: 256`, get the upstream's JSON body (a longer or unbounded reply would be "
        "streamed and folded); LiteLLM asks for (and gets) the JSON body too.",
        "- LiteLLM runs with no master key (like the gateway with no keys: "
        "`LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY`) and with "
        "`LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES` (its /v1/messages otherwise "
        "calls the upstream's /v1/responses, which Kimi does not have).",
        "- `floor` uses the gateway's HTTP client; `floor-<client>` the alternative, with the "
        "project's uvicorn/uvloop/httptools versions pinned in its own venv.",
        "- Concurrency 1 latency is what the targets add; at concurrency 32 the target's CPU is "
        "saturated, so +p50 there is mostly queueing.",
        f"- Per cell: {plan.warmup:g} s warm-up, {plan.seconds:g} s measured.",
    ]
    if interleaved:
        lines.append(
            "- gateway, gateway-bare, gateway-prod, gateway-prod-shared, portkey and ccr are "
            "measured interleaved, cell by cell (all up on CPU 1, those not measured idle), so "
            "drifting load weighs on them alike; the other targets run one after the other."
        )
    if interleaved and plan.rounds > 1:
        lines.append(
            f"- Those interleaved gateways: each cell measured {plan.rounds} times (rounds "
            "alternating the order), the round with the median CPU ms/req kept; the log in "
            "`bench/.work/` has every round's range."
        )
    busy = [
        f"{run.name} {m.cell.label} {m.interference:.0%}"
        for run in runs
        for m in run.measurements
        if m.interference is not None and m.interference > 0.05
    ]
    if busy:
        lines.append(
            "- Other processes on the machine used the target's CPU during some cells (their "
            "latency and req/s are pessimistic; CPU ms/req is much less affected): "
            + "; ".join(busy)
            + "."
        )
    for run in runs:
        if run.note:
            lines.append(f"- {run.name}: {run.note}")
        for m in run.measurements:
            if not m.ok and m.note:
                lines.append(f"- {run.name} {m.cell.label}: {m.note}")
    return "\n".join(lines)


@dataclass(slots=True)
class Setup:
    names: list[str]  # targets to run, in order (the baseline right after gateway)
    facts: dict[str, str]
    litellm_python: Path | None
    floor_python: Path | None
    baseline: Baseline | None
    trees: dict[str, Baseline]  # targets run from a git worktree (--baseline, --new)


def setup(args: argparse.Namespace, work: Path, names: list[str]) -> Setup:
    """Install what is missing, make the baseline tree, collect the machine facts."""
    if not args.no_install:
        install.ensure_debian_tools(work)
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    litellm_python = None
    if "litellm" in names:
        litellm_python = (
            install.litellm_venv(work) / "bin" / "python"
            if args.no_install
            else install.ensure_litellm(work)
        )
    project_python = Path(sys.executable)
    floor_python = None
    if "floor-alt" in names or "floor-alt" in args.profile:
        floor_python = install.ensure_floor_venv(work, project_python)
    base = baseline.prepare(work, args.baseline, project_python) if args.baseline else None
    new = baseline.prepare(work, args.new, project_python) if args.new else None
    facts = machine.facts(project_python, litellm_python)
    facts.update(peers.install_peers(work, names, args.no_install))
    if floor_python is not None:
        for pkg in ("aiohttp", "httpx"):
            facts[f"{pkg} (floor venv)"] = machine.package_version(floor_python, pkg)
    trees = {"gateway": new} if new is not None else {}
    if base is not None:
        trees[base.name] = base
    facts["kimi-gateway (gateway targets, sdk)"] = baseline.tree_state(ROOT)
    for name, tree in trees.items():
        facts[f"kimi-gateway ({name})"] = f"{tree.sha}, {tree.imports}"
    facts["load average at start"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    order = baseline.lineup_order(names, base.name if base else "")
    return Setup(order, facts, litellm_python, floor_python, base, trees)


def run_targets(
    plan: Plan, todo: list[Spec], bodies: dict[tuple[Path_, bool], Path], pair: set[str]
) -> list[TargetRun]:
    """Each target alone in turn, except those in ``pair`` (the gateways: plain, production,
    shared, the baseline; the Node peers): those are measured interleaved, cell by cell, where
    the first of them comes."""
    together = [spec for spec in todo if spec.name in pair]
    runs: list[TargetRun] = []
    for spec in todo:
        if len(together) >= 2 and spec.name in pair:
            if spec is together[0]:
                runs += run_interleaved(plan, together, bodies)
            continue
        log(f"starting {spec.name}")
        runs.append(run_target(plan, spec, bodies))
    return runs


def measure_all(plan: Plan, args: argparse.Namespace, s: Setup) -> list[TargetRun]:
    """Start the upstream, run every target in turn (and the profiles), stop the upstream."""
    upstream_proc, upstream = start_upstream(plan)
    runs: list[TargetRun] = []
    try:
        bodies = write_bodies(plan.work, MODEL)
        if "direct" in s.names:
            runs.append(run_direct(plan, upstream, bodies))
        if "sdk" in s.names:
            log("starting sdk (one process per cell)")
            runs.append(
                sdk_cell.run_sdk(
                    plan.work, upstream, bodies, plan.seconds, plan.warmup, plan.target_cpu, log
                )
            )
        lineup = Lineup(
            plan.work,
            upstream,
            Path(sys.executable),
            s.litellm_python,
            MODEL,
            s.floor_python,
            gateway_client(),
        )
        pair = set() if args.sequential else {*INTERLEAVED, s.baseline.name if s.baseline else ""}
        shared = SharedState.new()
        if SHARED in s.names:
            shared.create()
        try:
            runs += run_targets(plan, specs(lineup, s.names, s.trees, shared), bodies, pair)
        finally:
            if SHARED in s.names:
                shared.drop()
        if args.profile:
            tools = profile.Tools(
                install.ensure_py_spy(plan.work), install.ensure_strace(plan.work)
            )
            sections = [
                profile.profile_target(plan, spec, bodies, tools)
                for spec in specs(lineup, args.profile.split(","), s.trees, shared)
            ]
            profiled = BENCH_DIR / "PROFILE.md"
            profiled.write_text(profile.profile_markdown(sections, s.facts))
            log(f"wrote {profiled}")
    finally:
        upstream_proc.stop()
    return runs


def write_report(args: argparse.Namespace, plan: Plan, s: Setup, runs: list[TargetRun]) -> Path:
    results = Results(runs, s.facts, plan.seconds)
    extra = sections.all_sections(results)
    if args.ledger_cpu:
        extra += "\n\n" + ledger_cpu.section(plan.work)
    if s.baseline:
        interleaved = not args.sequential
        # gateway-bare is the baseline's like (no ledger, retries or breaker: those came after
        # it, each with its own budget against the plain path); gateway runs the defaults.
        for new in ("gateway-bare", "gateway"):
            if results.target(new) is not None:
                extra += "\n\n" + compare.section(
                    results, s.baseline.name, new=new, interleaved=interleaved
                )
    print(report.table(results))
    print()
    print(report.checks_table(report.checks(results)))
    if extra:
        print()
        print(extra)
    asked = [n for n in s.names if s.baseline is None or n != s.baseline.name]
    default = (
        BENCH_DIR / "RESULTS.md" if asked == list(TARGETS) else plan.work / "RESULTS-partial.md"
    )
    out: Path = args.results or default
    text = notes(runs, plan, not args.sequential)
    out.write_text(report.results_markdown(results, text, sections=extra))
    return out


def main() -> int:
    args = parse_args()
    names = [n for n in args.only.split(",") if n]
    if (os.cpu_count() or 1) < 2:
        log("needs 2 CPUs (driver and target)")
        return 2
    work = BENCH_DIR / ".work"
    work.mkdir(parents=True, exist_ok=True)
    plan = Plan(work, args.seconds, args.warmup, rounds=args.rounds)
    os.sched_setaffinity(0, {plan.driver_cpu})  # the harness stays off the target's CPU
    priority = raise_priority()
    started = time.monotonic()
    s = setup(args, work, names)
    s.facts["priority"] = priority
    runs = measure_all(plan, args, s)
    out = write_report(args, plan, s, runs)
    log(f"wrote {out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
