"""`kimi-gateway prices`, `keys create --budget` and `usage` (table, csv, json; the Kimi
balance, read from the emulator's balance endpoint, beside spend)."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from kimi_gateway.cli.main import app
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.ledger.budgets import stored_budgets
from kimi_gateway.ledger.db import open_database
from kimi_gateway.ledger.prices import PriceBook
from kimi_gateway.ledger.writer import LedgerWriter
from kimi_gateway.settings import ENV_NAMES

RUNNER = CliRunner()


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KIMI_GATEWAY_CONFIG", raising=False)
    monkeypatch.setenv("KIMI_GATEWAY_DATA_DIR", str(tmp_path))
    return tmp_path


def _record(data_dir: Path, outcomes: list[Outcome]) -> None:
    engine = open_database(f"sqlite:///{data_dir / 'kimi-gateway.db'}")
    writer = LedgerWriter(engine, PriceBook())
    for outcome in outcomes:
        writer.record(outcome)
    writer.flush()
    engine.dispose()


def _outcome(key: str, model: str, output: int) -> Outcome:
    return Outcome(
        "openai_chat",
        model=model,
        key_id=key,
        upstream="platform",
        upstream_model=model,
        attempts=1,
        usage=Usage(input_uncached=1000, input_cache_read=500, output=output, reasoning=10),
        usage_seen=True,
        route="chat_completions",
    )


def test_prices_prints_the_table(data_dir: Path) -> None:
    result = RUNNER.invoke(app, ["prices"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "USD per million tokens"
    row = next(line for line in lines if line.startswith("kimi-k2.6 "))
    assert row.split()[:6] == ["kimi-k2.6", "*", "0.16", "0.95", "4.00", "2026-04-20"]
    assert any(line.split()[:2] == ["$web_search", "0.005"] for line in lines)


def test_keys_create_with_budgets(data_dir: Path) -> None:
    result = RUNNER.invoke(
        app, ["keys", "create", "ci", "--budget", "5/day", "-b", "50/month", "--json"]
    )
    assert result.exit_code == 0, result.output
    made = orjson.loads(result.stdout)
    assert [(b["period"], b["usd"]) for b in made["budgets"]] == [("day", "5"), ("month", "50")]
    engine = open_database(f"sqlite:///{data_dir / 'kimi-gateway.db'}")
    stored = stored_budgets(engine)
    engine.dispose()
    assert [(b.key_id, b.period, b.limit_nano) for b in stored] == [
        (made["id"], "day", 5 * 10**9),
        (made["id"], "month", 50 * 10**9),
    ]
    listed = orjson.loads(RUNNER.invoke(app, ["keys", "list", "--json"]).stdout)
    assert [k["budgets"] for k in listed] == [made["budgets"]]
    line = RUNNER.invoke(app, ["keys", "list"]).stdout.strip().split("\t")
    assert (line[0], line[4], line[5]) == (made["id"], "5/day,50/month", "ci")
    bad = RUNNER.invoke(app, ["keys", "create", "x", "--budget", "lots"])
    assert bad.exit_code == 2
    assert "5/day" in bad.output


def test_usage_json_groups_by_model_and_key(data_dir: Path) -> None:
    _record(
        data_dir,
        [
            _outcome("key_a", "kimi-k2.6", 100),
            _outcome("key_b", "kimi-k2.6", 200),
            _outcome("key_a", "odd", 1),
        ],
    )
    result = RUNNER.invoke(app, ["usage", "--by", "model", "--format", "json", "--no-balance"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == [
        {
            "group": "kimi-k2.6",
            "requests": 2,
            "errors": 0,
            "input_tokens": 2000,
            "cached_tokens": 1000,
            "output_tokens": 300,
            "reasoning_tokens": 20,
            "cost_usd": "0.00326",  # 2000 × 0.95 + 1000 × 0.16 + 300 × 4 per million
            "unpriced_requests": 0,
        },
        {
            "group": "odd",
            "requests": 1,
            "errors": 0,
            "input_tokens": 1000,
            "cached_tokens": 500,
            "output_tokens": 1,
            "reasoning_tokens": 10,
            "cost_usd": "0",
            "unpriced_requests": 1,
        },
    ]
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    later = RUNNER.invoke(app, ["usage", "--since", tomorrow, "--format", "json", "--no-balance"])
    assert orjson.loads(later.stdout) == []
    csv = RUNNER.invoke(app, ["usage", "--by", "key", "--format", "csv", "--no-balance"])
    assert csv.stdout.splitlines()[0].startswith("key,name,requests,errors,input_tokens")


def test_usage_table_shows_the_kimi_balance_beside_spend(
    data_dir: Path, kimi_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "sk-test-balance")
    monkeypatch.setenv("KIMI_BASE_URL", kimi_emulator.platform_url)
    _record(data_dir, [_outcome("key_a", "kimi-k2.6", 100)])
    result = RUNNER.invoke(app, ["usage", "--by", "day"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["day", "requests", "errors"]
    assert lines[-2] == "spend in this period: $0.00143"
    assert lines[-1] == "Kimi balance (platform): 100.0 USD available (cash 100.0, vouchers 0.0)"
