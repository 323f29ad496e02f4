"""``run.py --ledger-cpu``: the ledger's own CPU per generation, measured in the harness's
process (issue 13 "Performance"): outcomes through the after-hook (what the request task pays),
then the writer thread's work (row, cost, batched insert, metrics), on SQLite and on the
machine's PostgreSQL. It isolates what the ``gateway-prod`` cells measure together with every
other production feature.
"""

from __future__ import annotations

import resource
from pathlib import Path

from benchkit.production import SharedState


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def writer_cpu(url: str, count: int = 20_000) -> tuple[float, float]:
    """(the after-hook alone, the hook plus the writer's work), in µs per generation."""
    from prometheus_client import CollectorRegistry

    from kimi_gateway.core.outcome import Outcome
    from kimi_gateway.core.usage import Usage
    from kimi_gateway.ledger.db import open_database
    from kimi_gateway.ledger.prices import PriceBook
    from kimi_gateway.ledger.writer import LedgerWriter
    from kimi_gateway.server.ledger_metrics import LedgerMetrics

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
    start = _cpu()
    for outcome in outcomes:
        writer.record(outcome)
    hooked = _cpu()
    writer.flush(120)
    done = _cpu()
    writer.stop()
    engine.dispose()
    return 1e6 * (hooked - start) / count, 1e6 * (done - start) / count


def section(work: Path) -> str:
    """Both databases measured, as a markdown section."""
    state = SharedState.new()
    state.create()
    try:
        found = {
            "sqlite": writer_cpu(f"sqlite:///{work / f'writer-cpu-{state.schema}.db'}"),
            "postgres": writer_cpu(state.database_url),
        }
    finally:
        state.drop()
    rows = "".join(f"| {name} | {hook:.2f} | {us:.2f} |\n" for name, (hook, us) in found.items())
    return (
        "## The ledger's own CPU (issue 13)\n\n"
        "Measured in one process (`--ledger-cpu`): 20,000 outcomes through the after-hook, then "
        "the writer thread (row, cost, batched insert, metrics).\n\n"
        "| database | after-hook (request task) µs | hook + writer µs |\n| --- | --- | --- |\n"
        + rows
    )
