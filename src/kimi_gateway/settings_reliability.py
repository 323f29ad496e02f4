"""The ``reliability:`` section of the settings: retries, the circuit breaker, limits, fallback
chains and shutdown (README "Reliability"). Plain validated models, read once by
:mod:`kimi_gateway.settings`; ``engine/build.py`` turns them into the wrappers of
``reliability/`` (which import only ``core``, so they get plain dataclasses, not these).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TierName = Literal["free", "tier1", "tier2", "tier3", "tier4", "tier5"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetrySettings(_Frozen):
    """Retries before the first byte reaches the client (docs/kimi.md §2.4). Defaults: up to 5
    attempts; with 15 % of calls failing retryably, 1 request in ~13,000 still fails."""

    enabled: bool = True
    max_attempts: int = Field(default=5, ge=1, le=10)  # calls per upstream, the first included
    base_delay: float = Field(default=0.25, ge=0)  # seconds; full jitter over base·2^(n-1)
    max_delay: float = Field(default=4.0, ge=0)  # one backoff wait at most
    max_retry_after: float = Field(default=20.0, ge=0)  # a longer Retry-After is not waited for
    max_wait: float = Field(default=30.0, ge=0)  # all waits of one request together
    budget_ratio: float = Field(default=0.2, ge=0, le=10)  # retries per request, over the window
    # retries always allowed at low traffic
    budget_min_per_second: float = Field(default=5.0, ge=0)
    budget_window: float = Field(default=10.0, gt=0)  # seconds of traffic the budget looks at
    empty_completion: bool = True  # retry a stream that ends with no content at all


class BreakerSettings(_Frozen):
    """One circuit breaker per upstream: open when at least ``failure_ratio`` of the calls in
    the last ``window`` seconds failed (and there were ``min_calls``); after ``open_seconds``,
    ``half_open_calls`` trial calls decide whether it closes again."""

    enabled: bool = True
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    min_calls: int = Field(default=20, ge=1)
    window: float = Field(default=10.0, gt=0)
    open_seconds: float = Field(default=15.0, gt=0)
    half_open_calls: int = Field(default=1, ge=1)


class AccountLimitSettings(_Frozen):
    """One upstream account's limits (docs/kimi.md §3): a tier by name, or numbers (which win
    over the tier's). None: unlimited."""

    tier: TierName | None = None
    concurrency: int | None = Field(default=None, ge=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    tpd: int | None = Field(default=None, ge=1)


class KeyLimitSettings(_Frozen):
    """Limits for each gateway key (every key gets its own). None: unlimited."""

    concurrency: int | None = Field(default=None, ge=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)


class LimitSettings(_Frozen):
    """``accounts``: by upstream entry name (``platform``, ``code``, or one of ``upstreams:``);
    both faces of a Kimi account share its limits, as Kimi counts per organisation."""

    accounts: dict[str, AccountLimitSettings] = Field(default_factory=dict)
    keys: KeyLimitSettings = KeyLimitSettings()
    # longest wait for a slot (also the deadline's)
    max_queue_wait: float = Field(default=30.0, ge=0)
    max_queue_depth: int = Field(default=1000, ge=0)  # waiting requests per account; more get 503
    # what Kimi counts when a request sets none
    default_max_tokens: int = Field(default=32768, ge=1)
    # the prompt estimate (conservative for Kimi)
    chars_per_token: float = Field(default=2.0, gt=0)
    window_margin: float = Field(default=1.0, ge=0)
    # seconds a concurrency slot stays taken after its call ended (Kimi lets go a bit later)
    release_grace: float = Field(default=0.1, ge=0)  # seconds added to Kimi's 60-s windows


class FallbackTarget(_Frozen):
    upstream: str
    model: str | None = None  # None: the same model name


class ShutdownSettings(_Frozen):
    drain_seconds: float = Field(default=30.0, ge=0)  # in-flight requests may finish for this long


class ReasoningMemory(_Frozen):
    """``quirks.remember_reasoning`` (issue 9 item 6, engine/reasoning_store.py): the reasoning
    of each tool call made for an OpenAI client, put back when its turn returns without it. In
    this process's memory (oldest out first past either bound), or in Redis with ``redis_url``
    (under ``reliability.redis_prefix``; Redis keys expire after the TTL)."""

    enabled: bool = True
    ttl_seconds: float = Field(default=86_400, gt=0)
    max_entries: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=256 * 2**20, ge=1)


class ReliabilitySettings(_Frozen):
    retry: RetrySettings = RetrySettings()
    breaker: BreakerSettings = BreakerSettings()
    limits: LimitSettings = LimitSettings()
    # client model name → the upstreams to try, in order, after the route's own
    fallbacks: dict[str, tuple[FallbackTarget, ...]] = Field(default_factory=dict)
    shutdown: ShutdownSettings = ShutdownSettings()
    redis_prefix: str = Field(default="kimi-gateway", min_length=1, max_length=100)

    @model_validator(mode="after")
    def _check(self) -> ReliabilitySettings:
        for name, chain in self.fallbacks.items():
            if not chain:
                raise ValueError(f"fallbacks.{name}: give at least one upstream")
        return self
