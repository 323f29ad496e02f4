"""The SDK's in-process calls recorded by the gateway's own ledger hooks (``ledger=``): one row
per call with its tokens and cost in the configured database, budgets that refuse a call before
it reaches Kimi, and no client-side ledger through a gateway (the gateway records)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.ledger.prices import PriceBook
from kimi_gateway.sdk import AsyncKimi, Kimi, KimiError
from kimi_gateway.settings_ledger import LedgerSettings

from .conftest import PLATFORM_KEY, chat_bodies
from .gateway import running_gateway


def _rows(url: str) -> list[dict[str, object]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT * FROM usage ORDER BY ts")).mappings().all()
            return [dict(row) for row in found]
    finally:
        engine.dispose()


def test_in_process_calls_are_rows_with_tokens_and_cost(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    data = tmp_path / "data"
    with Kimi(PLATFORM_KEY, kimi_emulator.platform_url, data_dir=data, ledger=True) as kimi:
        first = kimi.chat("Hi @@text:Hello there@@", model="kimi-k2.6")
        streamed = kimi.chat("More @@text:Streamed reply@@", model="kimi-k2.6", stream=True)
        assert "".join(d.text for d in streamed) == "Streamed reply"
        second = streamed.result
    rows = _rows(f"sqlite:///{data / 'kimi-gateway.db'}")
    assert [(r["route"], r["client"], r["model"], r["status"]) for r in rows] == [
        ("sdk", "openai_chat", "kimi-k2.6", "ok"),
        ("sdk", "openai_chat", "kimi-k2.6", "ok"),
    ]
    for row, result in zip(rows, (first, second), strict=True):
        usage = result.usage
        assert usage.output > 0
        assert (row["input_uncached"], row["input_cache_read"], row["output"]) == (
            usage.input_uncached,
            usage.input_cache_read,
            usage.output,
        )
        assert row["upstream"] == "platform"
        assert row["upstream_request_id"] == result.request_id
        assert row["priced"] is True or row["priced"] == 1
        price = next(p for p in PriceBook().prices if p.model == "kimi-k2.6")
        expected = (
            usage.input_uncached * price.cache_miss
            + usage.input_cache_read * price.cache_hit
            + usage.output * price.output
        ) / Decimal(1_000_000)
        assert row["cost_nano_usd"] == int(expected * Decimal(1_000_000_000))


@pytest.mark.anyio
async def test_a_budget_refuses_before_anything_is_sent(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    tiny = LedgerSettings.model_validate({"budgets": [{"period": "day", "limit_usd": "0.000001"}]})
    async with AsyncKimi(
        PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path / "data", ledger=tiny
    ) as kimi:
        with pytest.raises(KimiError) as caught:
            await kimi.chat("Hi @@text:never sent@@", model="kimi-k2.6", max_tokens=100)
    assert caught.value.kind == "quota_exhausted"
    assert "budget" in str(caught.value)
    assert chat_bodies(kimi_emulator) == []


def test_ledger_with_a_gateway_url_is_refused(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    with pytest.raises(ValueError, match="the gateway's own ledger records them"):
        Kimi(gateway_url="http://127.0.0.1:9/v1", ledger=True)
    with (
        running_gateway(kimi_emulator, tmp_path / "gw") as url,
        Kimi(gateway_url=url, data_dir=tmp_path / "client") as remote,
    ):
        remote.chat("Hi @@text:recorded by the gateway@@", model="kimi-k2.6")
    assert len(_rows(f"sqlite:///{tmp_path / 'gw' / 'kimi-gateway.db'}")) == 1
    assert not (tmp_path / "client" / "kimi-gateway.db").exists()
