"""The ledger's writer and database: rows from outcomes, batched off the request path, nothing
lost on a clean stop, the retention sweep, migrations on SQLite (WAL) and the real PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text

from kimi_gateway.core.model import Diagnostic
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.ledger.db import open_database
from kimi_gateway.ledger.keys import KeyStore, gateway_keys, metadata
from kimi_gateway.ledger.prices import PriceBook, from_nano
from kimi_gateway.ledger.reports import usage_report
from kimi_gateway.ledger.rows import build_row
from kimi_gateway.ledger.schema import usage
from kimi_gateway.ledger.writer import LedgerWriter


def _outcome(n: int, **fields: object) -> Outcome:
    values: dict[str, object] = {
        "model": "kimi-k2.6",
        "key_id": f"key_{n % 2}",
        "stream": n % 2 == 0,
        "upstream": "platform",
        "upstream_model": "kimi-k2.6",
        "routed_upstream": "platform",
        "attempts": 1,
        "usage": Usage(input_uncached=100, input_cache_read=50, output=20, reasoning=5),
        "usage_seen": True,
        "started": 10.0,
        "first_event": 10.25,
        "ended": 11.0,
        "route": "chat_completions",
        "request_id": f"req_{n}",
    }
    values.update(fields)
    return Outcome("openai_chat", **values)  # type: ignore[arg-type]


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(usage).order_by(usage.c.id))]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return open_database(f"sqlite:///{tmp_path / 'ledger.db'}")
    return open_database(request.getfixturevalue("postgres_url"))


def test_rows_are_written_in_batches_and_a_clean_stop_loses_nothing(database: Engine) -> None:
    writer = LedgerWriter(database, PriceBook(), flush_seconds=30)
    writer.start()
    for n in range(250):
        writer.record(_outcome(n))
    assert _rows(database) == []  # nothing written in the request path
    writer.stop()
    rows = _rows(database)
    assert len(rows) == 250 == writer.written
    first = rows[0]
    assert first["request_id"] == "req_0"
    assert (first["status"], first["error"], first["midstream"]) == ("ok", None, False)
    assert (first["latency_ms"], first["ttft_ms"]) == (1000.0, 250.0)
    assert (first["input_uncached"], first["input_cache_read"], first["output"]) == (100, 50, 20)
    assert first["reasoning"] == 5
    # 100 × 0.95 + 50 × 0.16 + 20 × 4.00 per million = $0.000183 (docs/kimi.md §20)
    assert first["priced"] is True
    cost = first["cost_nano_usd"]
    assert isinstance(cost, int)
    assert from_nano(cost) == Decimal("0.000183")


def test_statuses_errors_tools_and_unpriced_models(database: Engine) -> None:
    writer = LedgerWriter(database, PriceBook(), flush_seconds=30)
    outcomes = [
        _outcome(0, error="client_closed"),  # the client went away mid-stream
        _outcome(1, error="server", first_event=None, usage=Usage(), usage_seen=False),
        _outcome(2, error="server"),  # failed after the first event
        _outcome(
            3, upstream_model="somebody/Kimi-K2", tool_calls=3, builtin_tools=("$web_search",)
        ),
        _outcome(4, upstream="backup", attempts=3, diagnostics=(Diagnostic("dropped_param", "x"),)),
    ]
    for outcome in outcomes:
        writer.record(outcome)
    writer.flush()
    rows = _rows(database)
    assert [(r["status"], r["error"], r["midstream"]) for r in rows] == [
        ("client_closed", "client_closed", True),
        ("error", "server", False),
        ("error", "server", True),
        ("ok", None, False),
        ("ok", None, False),
    ]
    unpriced = rows[3]
    assert (unpriced["priced"], unpriced["cost_nano_usd"]) == (False, None)
    assert (unpriced["tool_calls"], unpriced["builtin_calls"]) == (3, 1)
    assert unpriced["builtin_tools"] == "$web_search"
    fallback = rows[4]
    assert (fallback["attempts"], fallback["retries"], fallback["fallbacks"]) == (3, 1, 1)
    assert fallback["diagnostics"] == "dropped_param"


def test_a_crash_loses_at_most_the_flush_interval(database: Engine) -> None:
    """Rows reach the database within flush_seconds without any stop (so a crash after that
    loses none of them)."""
    writer = LedgerWriter(database, PriceBook(), flush_seconds=0.2)
    writer.start()
    writer.record(_outcome(1))
    deadline = time.monotonic() + 5
    while not _rows(database) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_rows(database)) == 1
    writer.stop()


def test_retention_sweep_deletes_old_rows_only(database: Engine) -> None:
    writer = LedgerWriter(database, PriceBook(), retention_days=30)
    now = time.time()
    writer.record(_outcome(1))
    writer.flush()
    with database.begin() as conn:
        conn.execute(
            usage.update().where(usage.c.request_id == "req_1").values(ts=now - 31 * 86400)
        )
    writer.record(_outcome(2))
    writer.flush()
    assert writer.sweep(now) == 1
    assert [r["request_id"] for r in _rows(database)] == ["req_2"]


def test_reports_group_and_sum(database: Engine) -> None:
    writer = LedgerWriter(database, PriceBook())
    for n in range(4):
        writer.record(_outcome(n))
    writer.record(_outcome(5, upstream_model="unknown-model"))
    writer.flush()
    by_key = {g.group: g for g in usage_report(database, "key")}
    assert (by_key["key_0"].requests, by_key["key_1"].requests) == (2, 3)
    assert by_key["key_1"].unpriced_requests == 1
    assert by_key["key_0"].as_json() == {
        "group": "key_0",
        "requests": 2,
        "errors": 0,
        "input_tokens": 200,
        "cached_tokens": 100,
        "output_tokens": 40,
        "reasoning_tokens": 10,
        "cost_usd": "0.000366",
        "unpriced_requests": 0,
    }
    assert [g.requests for g in usage_report(database, "model")] == [4, 1]
    assert usage_report(database, "day", since=time.time() + 60) == []


def test_migrations_adopt_a_key_store_made_before_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    metadata.create_all(old, tables=[gateway_keys])  # what KeyStore did before migrations
    with old.begin() as conn:
        conn.execute(
            gateway_keys.insert().values(
                id="key_old",
                name="old",
                key_sha256="0" * 64,
                display="kgw-x…",
                models="[]",
                created_at=1.0,
            )
        )
    old.dispose()
    store = KeyStore(url)
    assert [r.id for r in store.all()] == ["key_old"]
    store.close()
    engine = open_database(url)
    tables = set(inspect(engine).get_table_names())
    assert {"gateway_keys", "usage", "budgets", "responses", "file_owners"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
    engine.dispose()


def test_rows_survive_a_database_outage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An insert that fails keeps its rows for the next flush (here: the table is gone, then
    back)."""
    from kimi_gateway.ledger.schema import metadata as ledger_metadata

    engine = open_database(f"sqlite:///{tmp_path / 'ledger.db'}")
    writer = LedgerWriter(engine, PriceBook())
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE usage"))
    writer.record(_outcome(1))
    writer.flush()
    assert writer.written == 0
    assert "kept for the next flush" in caplog.text
    ledger_metadata.create_all(engine, tables=[usage])
    writer.record(_outcome(2))
    writer.flush()
    assert writer.written == 2
    assert [r["request_id"] for r in _rows(engine)] == ["req_1", "req_2"]


def test_a_batch_of_many_statements_is_written_exactly(database: Engine) -> None:
    """SQLite takes many rows per INSERT (as many as its parameter limit allows): a batch
    of several statements and a partial last one reads back exactly as the rows were built,
    NULLs, booleans, floats and text included (PostgreSQL: one executemany, the same rows)."""
    writer = LedgerWriter(database, PriceBook())
    outcomes = [
        _outcome(
            n,
            error=None if n % 3 else "server",
            first_event=None if n % 5 == 0 else 10.0 + n / 7,
            upstream_request_id=None if n % 2 else f"up-'\"{n}\u00e9\U0001f600",
            key_id=None if n % 4 == 0 else f"key_{n}",
        )
        for n in range(2500)
    ]
    for outcome in outcomes:
        writer.record(outcome)
    writer.flush()
    rows = [{k: v for k, v in r.items() if k != "id"} for r in _rows(database)]
    assert len(rows) == 2500 == writer.written
    built = [build_row(o, rows[i]["ts"], PriceBook()) for i, o in enumerate(outcomes)]  # type: ignore[arg-type]
    assert rows == built


def test_sqlite_binds_none_and_bools_without_the_adaptation_protocol(tmp_path: Path) -> None:
    """Each None or bool of a row took sqlite3's adaptation path (an AttributeError built per
    value); the registered adapters bind them as sqlite3 would, so the stored row is the same."""
    engine = open_database(f"sqlite:///{tmp_path / 'ledger.db'}")
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    assert (bool, sqlite3.PrepareProtocol) in sqlite3.adapters
    writer = LedgerWriter(engine, PriceBook(), flush_seconds=30)
    writer.start()
    writer.record(_outcome(2, key_id=None, error=None, stream=True, usage_seen=False))
    assert writer.flush()
    writer.stop()
    (row,) = _rows(engine)
    assert (row["key_id"], row["error"], row["stream"], row["usage_seen"]) == (
        None,
        None,
        True,
        False,
    )
    with engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT stream, usage_seen, typeof(key_id) FROM usage").one()
    assert tuple(raw) == (1, 0, "null")
