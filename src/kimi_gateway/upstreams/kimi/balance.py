"""The Open Platform account balance, ``GET /v1/users/me/balance`` (docs/kimi.md §11): USD on
the international platform, CNY on ``.cn``; ``available`` is cash plus vouchers (cash may be in
arrears). Shown beside the ledger's spend by ``kimi-gateway usage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from kimi_gateway.settings import UpstreamConfig
from kimi_gateway.upstreams.kimi.adapter import PLATFORM_CN, PLATFORM_GLOBAL
from kimi_gateway.upstreams.kimi.build import v1


@dataclass(frozen=True, slots=True)
class Balance:
    account: str  # the upstream entry's name
    currency: str  # USD or CNY
    available: Decimal | None = None
    cash: Decimal | None = None
    voucher: Decimal | None = None
    error: str | None = None  # why it could not be read


def balance_url(entry: UpstreamConfig) -> tuple[str, str]:
    """(URL, currency) of a ``kimi_platform`` entry's balance endpoint."""
    cn = entry.options.get("region") == "cn"
    base = entry.base_url or (PLATFORM_CN if cn else PLATFORM_GLOBAL).base_url
    return v1(base) + "/users/me/balance", "CNY" if cn else "USD"


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if isinstance(value, int | float | str) else None


async def fetch_balance(session: aiohttp.ClientSession, entry: UpstreamConfig) -> Balance:
    url, currency = balance_url(entry)
    key = entry.api_key.get_secret_value() if entry.api_key is not None else ""
    try:
        async with session.get(url, headers={"authorization": f"Bearer {key}"}) as reply:
            body = await reply.json(content_type=None)
            if reply.status != 200 or not isinstance(body, dict):
                return Balance(entry.name, currency, error=f"HTTP {reply.status}")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Balance(entry.name, currency, error=type(exc).__name__)
    found = body.get("data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    return Balance(
        entry.name,
        currency,
        available=_money(data.get("available_balance")),
        cash=_money(data.get("cash_balance")),
        voucher=_money(data.get("voucher_balance")),
    )


async def balances(entries: tuple[UpstreamConfig, ...], seconds: float = 10) -> list[Balance]:
    """The balance of every ``kimi_platform`` entry, read one after another."""
    platform = [e for e in entries if e.kind == "kimi_platform"]
    if not platform:
        return []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        return [await fetch_balance(session, entry) for entry in platform]
