"""Budgets and the ledger through real gateways: a budget at its edge under parallel load is
never overspent and refuses in the caller's dialect; two replicas on the real PostgreSQL and
Redis record exactly what the emulator served and share one budget; /metrics shows spend,
tokens and budget left."""

from __future__ import annotations

import concurrent.futures
import secrets
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import openai
import pytest
import redis
from ledger_workload import EMULATOR_FAULTS, emulator_totals, ledger_totals, run_mixed, served
from test_ledger import ledger_rows

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.ledger.prices import from_nano, to_nano

REDIS = "redis://127.0.0.1:6379/0"
# The most one request below can cost: (5 + 16) prompt bytes at $0.95 and 1000 output tokens at
# $4.00 per million (kimi-k2.6, docs/kimi.md §20).
PER_REQUEST = (21 * Decimal("0.95") + 1000 * Decimal(4)) / 10**6
# Replies wait 1 s for their first byte, so a burst reserves before anything settles.
SLOW = [{"kind": "slow_first_byte", "delay_ms": 1000, "model": "kimi-k2.6"}]


def _ask(url: str, n: int) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=30)
    try:
        client.chat.completions.create(
            model="kimi-k2.6", max_tokens=1000, messages=[{"role": "user", "content": "hello"}]
        )
    except openai.RateLimitError as exc:
        return str(exc.body)
    return "ok"


def _parallel(urls: list[str], count: int) -> list[str]:
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda n: _ask(urls[n % len(urls)], n), range(count)))


def _budget(limit: Decimal) -> dict[str, Any]:
    return {"budgets": [{"period": "day", "limit_usd": str(limit)}]}


def test_a_budget_at_its_edge_is_never_overspent(
    gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=SLOW)
    limit = PER_REQUEST * 5 + PER_REQUEST / 2
    gateway = gateway_factory(emulator=emulator, ledger=_budget(limit))
    results = _parallel([gateway.url], 20)
    # The burst reserves before anything settles: 5 fit. (A request that came after a
    # settlement could fit too, as settling gives back what was not spent: never more than the
    # limit is spent, which is what is asserted below.)
    assert 5 <= results.count("ok") < 20
    refusal = next(r for r in results if r != "ok")
    assert "daily global budget of $0.0221" in refusal
    assert "it resets at" in refusal
    rows = ledger_rows(gateway, expect=20)
    spent = from_nano(sum(r["cost_nano_usd"] for r in rows))
    assert 0 < spent <= limit
    assert sorted({(r["status"], r["error"]) for r in rows}) == [
        ("error", "quota_exhausted"),
        ("ok", None),
    ]
    assert sum(r["attempts"] for r in rows) == results.count("ok") == len(emulator.requests())


def test_an_exhausted_budget_is_an_anthropic_billing_error_for_anthropic_clients(
    gateway_factory: Any,
) -> None:
    gateway = gateway_factory(ledger=_budget(PER_REQUEST / 2))
    client = anthropic.Anthropic(base_url=gateway.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.PaymentRequiredError) as caught:
        client.messages.create(
            model="kimi-k2.6", max_tokens=1000, messages=[{"role": "user", "content": "hello"}]
        )
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "billing_error"  # Anthropic's type for spent money
    assert body["error"]["message"].startswith("the gateway's daily global budget of $0.002")
    assert gateway.emulator.requests() == []


@pytest.fixture
def redis_prefix() -> Any:
    prefix = f"kgw-e2e-{secrets.token_hex(4)}:"
    yield prefix
    client = redis.Redis.from_url(REDIS)
    keys = client.keys(prefix + "*")
    if keys:
        client.delete(*keys)
    client.close()


def test_two_replicas_on_postgres_and_redis(
    postgres_url: str,  # before the gateways: torn down after them
    redis_prefix: str,
    gateway_factory: Any,
    kimi_emulator_factory: Any,
) -> None:
    emulator: EmulatorServer = kimi_emulator_factory(faults=EMULATOR_FAULTS)
    shared = {
        "database_url": postgres_url,
        "redis_url": REDIS,
        "ledger": {"redis_prefix": redis_prefix, **_budget(Decimal(1000))},
    }
    replicas = [gateway_factory(emulator=emulator, **shared) for _ in range(2)]
    jobs = run_mixed([(g.url, "k") for g in replicas], rounds=4)
    rows = ledger_rows(*replicas, expect=jobs)  # both replicas write one table
    assert len(rows) == jobs
    assert ledger_totals(rows) == emulator_totals(served(emulator))
    metrics = httpx.get(replicas[0].url + "/metrics").text
    assert 'kimi_gateway_budget_remaining_usd{budget="cfg_' in metrics
    assert "kimi_gateway_spend_usd_total{" in metrics
    assert 'kimi_gateway_ledger_tokens_total{kind="output",upstream="platform"}' in metrics


def test_two_replicas_share_one_budget_at_its_edge(
    postgres_url: str, redis_prefix: str, gateway_factory: Any, kimi_emulator_factory: Any
) -> None:
    emulator = kimi_emulator_factory(faults=SLOW)
    limit = PER_REQUEST * 6 + PER_REQUEST / 3
    shared = {
        "database_url": postgres_url,
        "redis_url": REDIS,
        "ledger": {"redis_prefix": redis_prefix, **_budget(limit)},
    }
    replicas = [gateway_factory(emulator=emulator, **shared) for _ in range(2)]
    results = _parallel([g.url for g in replicas], 30)
    assert 6 <= results.count("ok") < 30  # 6 fit in one burst (see the test above)
    costs = [r["cost_nano_usd"] for r in ledger_rows(*replicas, expect=30)]
    assert len(costs) == 30
    assert 0 < sum(costs) <= to_nano(limit)
