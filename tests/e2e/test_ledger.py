"""The ledger end to end: a real gateway in front of the emulator, official SDK clients, rows
in SQLite (WAL, the default) checked against the emulator's own record of what it served."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from gateway_server import GatewayServer
from ledger_workload import (
    EMULATOR_FAULTS,
    FAILING_MODEL,
    SLOW_MODEL,
    emulator_totals,
    ledger_totals,
    run_mixed,
    served,
)
from sqlalchemy import select

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.ledger.schema import usage


def _flushed(gateway: GatewayServer) -> list[dict[str, Any]]:
    runtime = gateway.app.runtime
    assert runtime is not None
    assert runtime.ledger is not None
    ledger = runtime.ledger
    assert ledger.writer is not None
    assert ledger.writer.flush()
    with ledger.database.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(usage).order_by(usage.c.id))]


def ledger_rows(*gateways: GatewayServer, expect: int = 0) -> list[dict[str, Any]]:
    """The rows, once every gateway (replicas share one database) has written what it queued
    and there are at least ``expect`` of them: a client can see its reply end a moment before
    the gateway ends the generation (a hang-up is noticed on its next read)."""
    deadline = time.monotonic() + 10
    while True:
        for gateway in gateways[1:]:
            _flushed(gateway)
        rows = _flushed(gateways[0])
        if len(rows) >= expect or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


@pytest.fixture
def faulty_emulator(kimi_emulator_factory: Any) -> EmulatorServer:
    emulator: EmulatorServer = kimi_emulator_factory(faults=EMULATOR_FAULTS)
    return emulator


def test_mixed_concurrent_run_matches_what_the_emulator_served(
    gateway_factory: Any, faulty_emulator: EmulatorServer
) -> None:
    gateway = gateway_factory(emulator=faulty_emulator)
    jobs = run_mixed([(gateway.url, "anything")], rounds=4)
    rows = ledger_rows(gateway, expect=jobs)
    assert len(rows) == jobs
    assert ledger_totals(rows) == emulator_totals(served(faulty_emulator))
    statuses = Counter((r["model"], r["status"], r["error"], r["midstream"]) for r in rows)
    assert statuses[(SLOW_MODEL, "client_closed", "client_closed", True)] == 4
    assert statuses[(FAILING_MODEL, "error", "content_filter", True)] == 4
    assert statuses[("kimi-k2.6", "error", "quota_exhausted", False)] == 4
    assert sum(r["builtin_calls"] for r in rows) == 4  # one $web_search call per round
    assert {r["route"] for r in rows} == {"chat_completions", "messages"}
    assert {r["client"] for r in rows} == {"openai_chat", "anthropic_messages"}


def test_a_row_says_everything_about_its_generation(gateway: GatewayServer) -> None:
    jobs = run_mixed([(gateway.url, "x")], rounds=1, workers=1)
    rows = {
        r["route"] + ("+s" if r["stream"] else ""): r for r in ledger_rows(gateway, expect=jobs)
    }
    text = next(r for r in ledger_rows(gateway) if r["tool_calls"] == 0 and r["status"] == "ok")
    assert text["upstream_request_id"]
    assert text["ttft_ms"] is not None
    assert text["latency_ms"] >= text["ttft_ms"]
    assert text["priced"] is True
    assert text["cost_nano_usd"] > 0
    assert (text["attempts"], text["retries"], text["fallbacks"]) == (1, 0, 0)
    assert rows["messages+s"]["upstream"] == "platform_anthropic"
    assert rows["messages+s"]["tool_calls"] == 1


def test_a_clean_shutdown_writes_every_row(gateway_factory: Any) -> None:
    gateway = gateway_factory(ledger={"flush_seconds": 60})
    jobs = run_mixed([(gateway.url, "x")], rounds=1, workers=4)
    database_url = gateway.settings.resolved_database_url()
    gateway.stop()
    from kimi_gateway.ledger.db import open_database

    engine = open_database(database_url)
    with engine.connect() as conn:
        assert len(conn.execute(select(usage)).all()) == jobs
    engine.dispose()
