"""Instructions per request, counted by valgrind (callgrind): the deterministic side of
``make bench``.

On a shared 2-CPU VM one round of ``make bench`` moves a cell's CPU ms/request by 10-15 % (the
same target, the same cell, a minute apart: bench/README.md), which hides any 5 % or 10 % rule.
Instructions retired do not depend on the machine's load. Each target runs under
``valgrind --tool=callgrind --instr-atstart=no`` against the same nginx upstream; per cell the
harness warms it up, switches instrumentation on (``callgrind_control -i on``), sends N
requests with c connections, switches it off and dumps: instructions (Ir) of the whole process
(every thread, the C code of the interpreter, uvloop, orjson and the kernel-call wrappers; not
the kernel itself) divided by N.

    .venv/bin/python bench/instructions.py [--requests 300] [--ref d52a093]
                                           [--targets bare,gateway,prod] [--cells ...]

Targets: ``gateway`` (the defaults), ``bare`` (no ledger, retries or breaker: what a tree older
than those features ran) and ``prod`` (as ``make bench``'s gateway-prod, in memory and SQLite),
all from the working tree; ``--ref`` adds the gateway of a git ref with the ``gateway`` config.
Prints a markdown table and the ratios the issues' rules name. Needs valgrind and nginx.
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import baseline, fixtures, install, large, production
from benchkit.cells import Cell, grid
from benchkit.fixtures import MODEL
from benchkit.runner import Plan, free_port, start_upstream, wait_port
from benchkit.targets import ENDPOINTS, Process, clean_env, client_headers, gateway_config

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
WORK = ROOT / "bench" / ".work" / "instructions"
CONFIGS = {
    "gateway": "",
    "bare": production.BARE_CONFIG,
    "prod": production.production_config(),
}
_TOTALS = re.compile(rb"^totals: (\d+)", re.M)
# The ledger writes its rows in one transaction per flush. Under callgrind the gateway runs
# about 50 times slower, so a flush every second (the default) would hold about 50 times fewer
# rows than at full speed and its fixed cost (the transaction, the commit: ~400k instructions)
# would weigh that much more on each row. The count flushes every FLUSH seconds instead and
# keeps counting until the last flush of the measured requests is done.
FLUSH = 5.0


def config_of(kind: str) -> str:
    """The target's YAML additions, with the ledger's flush interval set to FLUSH."""
    text = CONFIGS[kind]
    flush = f"  flush_seconds: {FLUSH:g}\n"
    if "ledger:\n" in text:
        return text.replace("ledger:\n", "ledger:\n" + flush, 1)
    return text + "ledger:\n" + flush


@dataclass(frozen=True, slots=True)
class Counted:
    target: str
    cell: Cell
    per_request: float


def _argv(target: str, tree: Path | None, config: Path, port: int, out: Path) -> list[str]:
    serve = ["serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    code = baseline.bootstrap((tree or ROOT) / "src") + baseline.RUN_CLI
    grind = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        "--dump-instr=no",
    ]
    return [*grind, str(PYTHON), "-c", code, *serve]


def start(plan: Plan, upstream: str, target: str, tree: Path | None) -> tuple[Process, str, Path]:
    port = free_port()
    name = target.replace("@", "-")
    config = WORK / f"{name}.yaml"
    kind = "gateway" if "@" in target else target
    # a git ref is measured with its own defaults (an old tree may have no ledger settings)
    extra = CONFIGS[kind] if "@" in target else config_of(kind)
    text = gateway_config(upstream, WORK / f"{name}-data", "-") + extra
    config.write_text(text)
    out = WORK / f"{name}.callgrind"
    proc = Process(_argv(target, tree, config, port, out), clean_env({}), WORK / f"{name}.log", 1)
    problem = wait_port(port, proc, 300)
    if problem:
        proc.stop()
        raise RuntimeError(f"{target}: {problem}")
    return proc, f"127.0.0.1:{port}", out


LARGE = {b.name: b for b in large.bodies()}


def fire(address: str, cell: Cell, total: int, named: str = "") -> None:
    """``total`` requests of ``cell`` over ``cell.concurrency`` keep-alive connections; the
    cell's small body, or the ``named`` body of benchkit/large.py."""
    host, port = address.split(":")
    body = (fixtures.openai_request if cell.path == "same" else fixtures.anthropic_request)(
        cell.stream, MODEL
    )
    if named:
        body = LARGE[named].encoded(cell.stream, MODEL)
    headers = {"content-type": "application/json", **client_headers(cell.path)}

    def one_connection(count: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=300)
        for _ in range(count):
            conn.request(
                "POST", LARGE[named].route if named else ENDPOINTS[cell.path], body, headers
            )
            reply = conn.getresponse()
            data = reply.read()
            if reply.status != 200:
                raise RuntimeError(f"{reply.status}: {data[:200]!r}")
        conn.close()

    c = cell.concurrency
    shares = [total // c + (1 if i < total % c else 0) for i in range(c)]
    with ThreadPoolExecutor(c) as pool:
        list(pool.map(one_connection, shares))


def _control(pid: int, *args: str) -> None:
    done = subprocess.run(
        ["callgrind_control", *args, str(pid)], check=False, capture_output=True, text=True
    )
    if "OK." not in done.stdout:  # it exits 0 when it found no such run
        raise RuntimeError(f"callgrind_control {' '.join(args)} {pid}: {done.stdout.strip()}")


def count(
    proc: Process, address: str, out: Path, cell: Cell, requests: int, named: str = ""
) -> float:
    fire(address, cell, max(20, requests // 5), named)  # warm: memo, pools, the caches
    for dump in out.parent.glob(out.name + "*"):
        dump.unlink()
    _control(proc.pid, "--zero")
    _control(proc.pid, "-i", "on")
    fire(address, cell, requests, named)
    time.sleep(FLUSH + 0.5)  # the ledger's last flush of these requests, counted too
    _control(proc.pid, "-i", "off")
    _control(proc.pid, "--dump")
    time.sleep(0.5)
    total = 0
    for dump in out.parent.glob(out.name + "*"):
        found = _TOTALS.search(dump.read_bytes())
        total += int(found.group(1)) if found else 0
    return total / requests


def table(rows: list[Counted], targets: list[str], pairs: list[tuple[str, str]]) -> str:
    by = {(r.target, r.cell): r.per_request for r in rows}
    head = ["cell", *(f"{t} Ir/req" for t in targets), *(f"{a} / {b}" for a, b in pairs)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for cell in grid():
        values = [by.get((t, cell)) for t in targets]
        ratios = [
            by[(a, cell)] / by[(b, cell)] if (a, cell) in by and (b, cell) in by else None
            for a, b in pairs
        ]
        shown = [f"{v / 1e6:.3f} M" if v else "n/a" for v in values]
        shown += [f"{r:.3f}" if r else "n/a" for r in ratios]
        lines.append(f"| {cell.label} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--ref", default="", help="also the gateway at this git ref")
    parser.add_argument("--targets", default="bare,gateway,prod")
    parser.add_argument("--cells", default="", help="e.g. same/stream/c1 (default: all)")
    parser.add_argument(
        "--body",
        default="",
        help="a body of benchkit/large.py (e.g. long-openai) for the cells of its path",
    )
    parser.add_argument("--tree", default="", help="the working-tree targets from this tree")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    install.ensure_debian_tools(WORK)
    install.ensure_valgrind(WORK)
    plan = Plan(WORK, 1, 1)
    targets = [t for t in args.targets.split(",") if t]
    trees: dict[str, Path | None] = dict.fromkeys(targets, Path(args.tree) if args.tree else None)
    if args.ref:
        ref = baseline.prepare(ROOT / "bench" / ".work", args.ref, PYTHON)
        trees[f"gateway@{ref.short}"] = ref.tree
    cells = [c for c in grid() if not args.cells or c.label in args.cells.split(",")]
    if args.body:
        cells = [c for c in cells if c.path == LARGE[args.body].path]
    nginx, upstream = start_upstream(plan)
    rows: list[Counted] = []
    try:
        for target, tree in trees.items():
            proc, address, out = start(plan, upstream, target, tree)
            try:
                for cell in cells:
                    n = count(proc, address, out, cell, args.requests, args.body)
                    print(f"bench: {target} {cell.label}: {n / 1e6:.3f} M Ir/req", file=sys.stderr)
                    rows.append(Counted(target, cell, n))
            finally:
                proc.stop()
    finally:
        nginx.stop()
    names = list(trees)
    pairs: list[tuple[str, str]] = [
        (t, "bare") for t in ("gateway", "prod") if t in names and "bare" in names
    ]
    pairs += [(t, ref) for ref in names if "@" in ref for t in ("bare", "gateway") if t in names]
    print(table(rows, names, pairs))


if __name__ == "__main__":
    main()
