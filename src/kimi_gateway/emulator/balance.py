"""The account balance of the Open Platform (docs/kimi.md §11): check, charge, render.

Served requests draw the balance down at the configured per-token prices (cache hits at the
cache price, §12). At an available balance ≤ 0 inference is refused with 429
`exceeded_current_quota_error` (§2.2, the 2026 status; the 403 form is older docs only).
Failed requests are not charged (§2.2: "Requests that fail with 429 are not billed").
"""

from __future__ import annotations

from decimal import Decimal

from kimi_gateway.emulator.errors import quota_exceeded
from kimi_gateway.emulator.state import EmulatorState

_MILLION = Decimal(1_000_000)


def ensure_funds(state: EmulatorState) -> None:
    """Raise the quota error when nothing is left (§11: "at ≤ 0, inference is refused")."""
    available = state.available_balance
    if available <= 0:
        raise quota_exceeded(format(available.normalize(), "f"))


def request_cost(
    state: EmulatorState, model: str, prompt: int, cached: int, completion: int
) -> Decimal:
    """Deterministic price of one request: uncached input, cached input, output."""
    price = state.config.model_prices.get(model, state.config.prices)
    total = (
        Decimal(prompt - cached) * price.input_per_mtok
        + Decimal(cached) * price.cached_input_per_mtok
        + Decimal(completion) * price.output_per_mtok
    )
    return total / _MILLION


def charge(state: EmulatorState, model: str, prompt: int, cached: int, completion: int) -> None:
    """Draw the cost from vouchers first, then cash (cash may go negative: arrears, §11)."""
    cost = request_cost(state, model, prompt, cached, completion)
    with state.lock:
        from_voucher = min(cost, max(state.voucher_balance, Decimal(0)))
        state.voucher_balance -= from_voucher
        state.cash_balance -= cost - from_voucher


def balance_body(state: EmulatorState) -> dict[str, object]:
    """`GET /v1/users/me/balance` exactly as §11 [O] OAS, CB (numbers, USD)."""
    with state.lock:
        cash, voucher = state.cash_balance, state.voucher_balance
    return {
        "code": 0,
        "data": {
            "available_balance": float(state.available_balance),
            "voucher_balance": float(voucher),
            "cash_balance": float(cash),
        },
        "scode": "0x0",
        "status": True,
    }
