"""The emulator's configuration: a frozen model loaded from YAML (or all defaults).

Defaults are the "quiet" emulator: any well-formed key accepted, no User-Agent gating, no faults,
no rate limits. Tests opt in to the rest. Behaviours kimi-api.md marks [?] are switches here,
each defaulting to the safe side and citing its section. Nothing here does I/O except
`load_emulator_config`, which reads the one file it is given.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal[
    "engine_overloaded",  # 429 engine_overloaded_error + Retry-After
    "rate_limit",  # 429 rate_limit_reached_error + Retry-After
    "quota",  # 429 exceeded_current_quota_error, no Retry-After (must not be retried)
    "server_error",  # 500 server_error
    "server_unavailable",  # 503 server_unavailable
    "gateway_timeout",  # 504 nginx HTML page
    "payload_too_large",  # 413
    "content_filter",  # 400 content_filter before generation
    "content_filter_mid",  # content_filter error after `after_chunks` stream chunks
    "slow_first_byte",  # wait `delay_ms` before the first byte
    "slow_chunks",  # wait `delay_ms` between stream chunks
    "cut",  # drop the connection after `after_chunks` stream chunks
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FaultRule(_Frozen):
    """One fault: which requests it hits (filters, then `every` or `probability`) and how."""

    kind: FaultKind
    # Hit every Nth matching request (N, 2N, ...). When set, `probability` is ignored.
    every: int | None = Field(default=None, ge=1)
    # Chance per matching request, drawn from the state's seeded random.Random.
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    path: str | None = None  # only requests whose path starts with this
    model: str | None = None  # only requests for exactly this model name
    delay_ms: int = Field(default=0, ge=0)  # slow_first_byte / slow_chunks
    after_chunks: int = Field(default=2, ge=0)  # cut / content_filter_mid
    retry_after: int = Field(default=1, ge=0)  # seconds, 429 kinds that carry it


class TierLimits(_Frozen):
    """Organisation limits of kimi-api.md §3; None means unlimited."""

    concurrency: int | None = Field(default=None, ge=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    tpd: int | None = Field(default=None, ge=1)
    # The `{uid}<{ak-id}>` of the messages in §2.2.
    uid: str = "emulator-user"
    ak_id: str = "ak-emulator"
    # §2.2 [3M] HALRO 2026-09 saw a newer wording, "Organization Rate limit exceeded, please try
    # again after 1 seconds"; [O] docs give the per-dimension messages. Default: the documented.
    wording: Literal["tier", "organization"] = "tier"


class Prices(_Frozen):
    """USD per million tokens, used to draw the balance down (§11, §12 cache-hit price)."""

    input_per_mtok: Decimal = Decimal("0.60")
    cached_input_per_mtok: Decimal = Decimal("0.15")
    output_per_mtok: Decimal = Decimal("2.50")


class EmulatorConfig(_Frozen):
    # Accepted keys. Empty means "any key of the product's form": Kimi Code keys start
    # `sk-kimi-` (§1), platform keys are any other `sk-` key. Keys never cross products (§1).
    platform_keys: tuple[str, ...] = ()
    kimi_code_keys: tuple[str, ...] = ()
    # §1/§13.2: Kimi Code admits only approved coding agents by User-Agent. Off by default
    # because tests use generic clients.
    require_coding_agent_ua: bool = False
    coding_agent_user_agents: tuple[str, ...] = (
        "KimiCLI/",
        "claude-cli/",
        "claude-code/",
        "RooCode/",
        "Roo-Code/",
        "Kilo-Code/",
    )
    # Balance (§11): available = cash + voucher; ≤ 0 refuses inference with 429 quota.
    initial_cash_balance: Decimal = Decimal("100")
    initial_voucher_balance: Decimal = Decimal("0")
    prices: Prices = Prices()
    model_prices: dict[str, Prices] = Field(default_factory=dict)
    seed: int = 0
    faults: tuple[FaultRule, ...] = ()
    limits: TierLimits = TierLimits()
    # §5.4 [?]: k2.x default max_completion_tokens is undocumented; used for TPM/TPD accounting.
    default_max_tokens: int = 32768
    # §7.2 [3M] OPENCODE: Kimi Code K3 may stream `reasoning_details`; off = documented shape.
    reasoning_details: bool = False
    # §8.6/§17.13 [?]: older walle rejected `type` beside anyOf/$ref; current walle rewrites.
    # Safe default: reject (a gateway that passes this test works on both servers).
    reject_type_beside_anyof_ref: bool = True
    # §8.4/§17.1 [?]: required/named tool_choice with thinking on measured rejected on k2.6 only;
    # k2.5 and k2.7-code unmeasured. Safe default: reject on all of k2.5-k2.7.
    tool_choice_thinking_rejected: tuple[str, ...] = (
        "kimi-k2.5",
        "kimi-k2.6",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
    )
    # §4.1/§17.11 [?]: retired models (k2 previews, thinking, moonshot-v1, kimi-latest) 404.
    # Default: still served, as the 2026-08 OAS lists moonshot-v1.
    retired_models_404: bool = False
    # §13.1 [3M] HALRO: Kimi Code echoes unknown model names with 200. Safe default: 404.
    kimi_code_unknown_model: Literal["not_found", "accept"] = "not_found"
    # §5.2 [?]: http(s) image URLs; HALRO/KCDOCS say rejected, HC says accepted. Reject.
    reject_http_image_urls: bool = True


def load_emulator_config(path: str | None) -> EmulatorConfig:
    """Read a YAML file into an EmulatorConfig; None gives the defaults."""
    if path is None:
        return EmulatorConfig()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if data is None:
        return EmulatorConfig()
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the emulator config must be a YAML mapping")
    return EmulatorConfig.model_validate(data)
