"""Report sections beyond issue 5's table: the production features' cost (issues 12, 13, 15:
≤ 10 % CPU per request over the plain gateway; with Redis and PostgreSQL, the added p50 and
CPU), the SDK's CPU per call against the gateway's per request (issue 14), and the gateway
against the best Node peer per cell (issue 15). Pure: Results in, markdown out.
"""

from __future__ import annotations

from benchkit.cells import Cell, Measurement, Results, grid

PROD_BUDGET = 1.10  # issue 15 "Production features on … cost ≤ 10 % more than the plain path"
PEERS = ("portkey", "ccr")


def _ok(results: Results, name: str, cell: Cell) -> Measurement | None:
    t = results.target(name)
    m = t.get(cell) if t else None
    return m if m is not None and m.ok else None


def _cpu(m: Measurement | None) -> str:
    cpu = m.cpu_ms_per_request if m else None
    return f"{cpu:.3f}" if cpu is not None else "n/a"


def _ratio(ours: Measurement | None, theirs: Measurement | None) -> float | None:
    a = ours.cpu_ms_per_request if ours else None
    b = theirs.cpu_ms_per_request if theirs else None
    return a / b if a is not None and b else None


def _p50_ms(ours: Measurement | None, theirs: Measurement | None) -> str:
    if ours is None or theirs is None or ours.wrk is None or theirs.wrk is None:
        return "n/a"
    return f"{(ours.wrk.p50_us - theirs.wrk.p50_us) / 1000:+.3f}"


def _shown(ratio: float | None) -> str:
    return f"{ratio:.3f}" if ratio is not None else "n/a"


def production_rows(results: Results) -> tuple[list[str], int, int]:
    """Table rows, and how many cells met / did not meet the 10 % budget."""
    rows, met, missed = [], 0, 0
    for cell in grid():
        found = [
            _ok(results, name, cell)
            for name in ("gateway-bare", "gateway", "gateway-prod", "gateway-prod-shared")
        ]
        bare, plain, prod, shared = found
        ratio = _ratio(prod, plain)
        verdict = "n/a"
        if ratio is not None:
            verdict = "**met**" if ratio <= PROD_BUDGET else "**not met**"
            met, missed = met + (ratio <= PROD_BUDGET), missed + (ratio > PROD_BUDGET)
        cpus = " | ".join(_cpu(m) for m in found)
        rows.append(
            f"| {cell.label} | {cpus} | {_shown(ratio)} | {verdict} | "
            f"{_shown(_ratio(prod, bare))} | {_shown(_ratio(shared, plain))} | "
            f"{_p50_ms(prod, plain)} | {_p50_ms(shared, plain)} |"
        )
    return rows, met, missed


def production_section(results: Results) -> str:
    """Empty unless gateway-prod or gateway-prod-shared ran."""
    if not (results.target("gateway-prod") or results.target("gateway-prod-shared")):
        return ""
    rows, met, missed = production_rows(results)
    return "\n".join(
        [
            "## Production features (issues 12, 13, 15)",
            "",
            "CPU ms/req per cell. `gateway` runs the defaults: the ledger on SQLite, retries and "
            "the breaker are on already. `gateway-prod` adds a gateway key, account and key "
            "limits (in memory, never queueing) and two budgets; `gateway-prod-shared` keeps "
            "that state in Redis and the ledger in PostgreSQL; `gateway-bare` has no production "
            "feature at all. The budget is prod / gateway ≤ "
            f"{PROD_BUDGET:.2f} ({met} cells met, {missed} not); prod / bare is the whole "
            "cost of the features over the bare path. +p50 is over `gateway` in the same cell "
            "(at c=32 mostly queueing).",
            "",
            "| cell | gateway-bare | gateway | gateway-prod | gateway-prod-shared "
            "| prod / gateway | ≤ 10 % | prod / bare | shared / gateway | +p50 ms prod "
            "| +p50 ms shared |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
            *rows,
        ]
    )


def sdk_section(results: Results) -> str:
    """The SDK's CPU per call (its whole process) beside the gateway's per request."""
    if not results.target("sdk"):
        return ""
    lines = [
        "## SDK in-process (issue 14)",
        "",
        "`AsyncKimi` in one process (bench/sdk_load.py) calling the same nginx upstream with "
        "c concurrent tasks: CPU ms per call of that whole process (the caller's loop, the "
        "engine, the HTTP client) beside the gateway's CPU per request (the gateway process "
        "only: the SDK has no server side). The target is ≤ 1.00×.",
        "",
        "| cell | SDK CPU ms/call | gateway CPU ms/req | SDK / gateway | SDK calls/s "
        "| SDK p50 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for cell in (c for c in grid() if c.path == "same"):
        sdk, gateway = _ok(results, "sdk", cell), _ok(results, "gateway", cell)
        ratio = _ratio(sdk, gateway)
        rps = f"{sdk.wrk.rps:,.0f}" if sdk and sdk.wrk else "n/a"
        p50 = f"{sdk.wrk.p50_us / 1000:.3f}" if sdk and sdk.wrk else "n/a"
        shown = f"{ratio:.2f}×" if ratio is not None else "n/a"
        lines.append(f"| {cell.label} | {_cpu(sdk)} | {_cpu(gateway)} | {shown} | {rps} | {p50} |")
    return "\n".join(lines)


def _best_peer(results: Results, cell: Cell) -> tuple[str, Measurement] | None:
    found = [(name, m) for name in PEERS if (m := _ok(results, name, cell)) is not None]
    found = [(n, m) for n, m in found if m.cpu_ms_per_request is not None]
    if not found:
        return None
    return min(found, key=lambda item: item[1].cpu_ms_per_request or 0.0)


def peers_section(results: Results) -> str:
    """Per cell: the gateway's CPU per request and req/s over the best Node peer's."""
    if not any(results.target(name) for name in PEERS):
        return ""
    lines = [
        "## Gateway vs the best peer (issue 15)",
        "",
        "Per cell, the peer with the least CPU per request among Portkey (OpenAI → OpenAI "
        "cells) and claude-code-router (Anthropic → OpenAI cells). Issue 15's targets: CPU "
        "ratio ≤ 0.50 on every small-body cell, req/s ratio ≥ 1.5 at c=32.",
        "",
        "| cell | best peer | peer CPU ms/req | gateway CPU ms/req | CPU gateway/peer "
        "| req/s gateway/peer |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for cell in grid():
        best, ours = _best_peer(results, cell), _ok(results, "gateway", cell)
        if best is None:
            lines.append(f"| {cell.label} | n/a | n/a | {_cpu(ours)} | n/a | n/a |")
            continue
        name, peer = best
        ratio = _ratio(ours, peer)
        rps = "n/a"
        if ours and ours.wrk and peer.wrk and peer.wrk.rps:
            rps = f"{ours.wrk.rps / peer.wrk.rps:.2f}"
        shown = f"{ratio:.2f}" if ratio is not None else "n/a"
        lines.append(f"| {cell.label} | {name} | {_cpu(peer)} | {_cpu(ours)} | {shown} | {rps} |")
    return "\n".join(lines)


def all_sections(results: Results) -> str:
    return "\n\n".join(
        s for s in (production_section(results), sdk_section(results), peers_section(results)) if s
    )
