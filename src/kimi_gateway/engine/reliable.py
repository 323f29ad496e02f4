"""The reliability recipe: wrap the upstreams the registry built, as the settings say.

Per upstream, innermost first (DESIGN.md §2a, §4.8):
``Retrying(Breaking(Limited(upstream)))`` — each retry is breaker-checked and admitted by the
account's limits again (Kimi counts every attempt); a route with a ``fallbacks:`` chain then
gets a ``Fallback`` over the wrapped members (routing.py asks :meth:`Reliability.chain`).
A wrapper whose settings are off is not built at all (no cost on the no-fault path): limits
exist only where an account (or every key) has one.

With ``redis_url``, limits, the retry budget and breaker state are shared by every replica
(reliability/shared.py); without it, or while Redis is away, they live in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_gateway.core.upstream import Upstream
from kimi_gateway.reliability.breaker import Breaker, BreakerConfig, Breaking
from kimi_gateway.reliability.fallback import Fallback
from kimi_gateway.reliability.limited import AccountQueue, Limited, QueuePolicy
from kimi_gateway.reliability.limits import Gate, KeyMeters, Limits, LocalGate, account_limits
from kimi_gateway.reliability.retry_policy import RetryBudget, RetryPolicy
from kimi_gateway.reliability.retrying import Retrying
from kimi_gateway.reliability.shared import SharedBudget, SharedGate, SharedState
from kimi_gateway.reliability.stats import Stats
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.config import UpstreamConfigError

Closer = Callable[[], Awaitable[None]]
GateFactory = Callable[[str, Limits, KeyMeters], Gate]


@dataclass
class Reliability:
    """What the wrappers share, for the engine, ``/metrics`` and ``/readyz``."""

    stats: Stats = field(default_factory=Stats)
    breakers: dict[str, Breaker] = field(default_factory=dict)
    queues: dict[str, AccountQueue] = field(default_factory=dict)
    chains: dict[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)
    closers: list[Closer] = field(default_factory=list)
    starters: list[Callable[[], None]] = field(default_factory=list)  # run in the serving loop
    degraded: Callable[[], str | None] = lambda: None  # why shared state is local, if it is
    stale_resends: Callable[[], int] = lambda: 0  # requests resent after a stale connection
    _upstreams: Mapping[str, Upstream] = field(default_factory=dict)
    _built: dict[tuple[str, str, str], Fallback] = field(default_factory=dict)

    def chain(self, requested: str, upstream: Upstream, model: str) -> Upstream:
        """The upstream to open for ``requested``: ``upstream`` itself, or a Fallback from it
        through the route's chain (built once per routed upstream and model)."""
        chain = self.chains.get(requested) or self.chains.get(model)
        if chain is None:
            return upstream
        built = self._built.get((requested, upstream.name, model))
        if built is None:
            members: list[tuple[Upstream, str]] = [(upstream, model)]
            for name, alt_model in chain:
                alt = self._upstreams[name]
                members.append((alt, alt.upstream_model(alt_model or requested)))
            built = self._built[(requested, upstream.name, model)] = Fallback(members, self.stats)
        return built

    def readiness(self) -> dict[str, Any]:
        """Breaker states, queue depths and the shared state's health."""
        report: dict[str, Any] = {
            "breakers": {name: b.state for name, b in self.breakers.items()},
            "queues": {name: q.depth for name, q in self.queues.items()},
        }
        degraded = self.degraded()
        if degraded is not None:
            report["shared_state"] = {"status": "degraded", "reason": degraded}
        return report

    def start(self) -> None:
        """Start background work (the shared-state sync) inside the running loop."""
        for start in self.starters:
            start()

    async def aclose(self) -> None:
        for close in self.closers:
            await close()


def wrap_upstreams(
    settings: Settings,
    upstreams: dict[str, Upstream],
    accounts: Mapping[str, str],
    clock: Callable[[], float],
    gate_factory: GateFactory | None = None,
) -> tuple[dict[str, Upstream], Reliability]:
    """``upstreams`` wrapped by the settings' reliability section, and what they share."""
    section = settings.reliability
    rel = Reliability()
    keys = KeyMeters(Limits(**section.limits.keys.model_dump()), section.limits.window_margin)
    make_gate = gate_factory or _local_gates(keys, clock, section.limits.window_margin)
    policy = RetryPolicy(**section.retry.model_dump(exclude={"enabled"}))
    budget = RetryBudget(policy, clock)
    shared = None
    if settings.redis_url:
        shared = SharedState(settings.redis_url, section.redis_prefix)
        make_gate = _shared_gates(shared, make_gate, section.limits.window_margin)
        budget = SharedBudget(shared, policy, clock)
        rel.degraded = lambda: shared.reason
        rel.closers.append(shared.aclose)
        rel.starters.append(shared.start)
    breaker_config = BreakerConfig(**section.breaker.model_dump(exclude={"enabled"}))
    wrapped: dict[str, Upstream] = {}
    for name, upstream in upstreams.items():
        account = accounts.get(name, name)
        queue = _queue(rel, account, settings, keys, make_gate)
        current: Upstream = upstream if queue is None else Limited(upstream, queue)
        if section.breaker.enabled:
            breaker = rel.breakers[name] = Breaker(breaker_config, clock)
            current = Breaking(current, breaker)
        if section.retry.enabled:
            current = Retrying(current, policy, budget, rel.stats)
        wrapped[name] = current
    if shared is not None:
        shared.breakers = rel.breakers
        for gate in shared.gates:
            queue = rel.queues[gate.account]
            queue.others = lambda gate=gate: gate.others_depth  # type: ignore[misc]
            gate.local_depth = lambda queue=queue: queue.depth  # type: ignore[misc]
    rel.chains = _chains(settings, wrapped)
    rel._upstreams = wrapped
    return wrapped, rel


def _local_gates(keys: KeyMeters, clock: Callable[[], float], margin: float) -> GateFactory:
    def make(account: str, limits: Limits, _keys: KeyMeters) -> Gate:
        return LocalGate(limits, keys, clock, margin)

    return make


def _shared_gates(shared: SharedState, local: GateFactory, margin: float) -> GateFactory:
    window_ms = int((60 + margin) * 1000)

    def make(account: str, limits: Limits, keys: KeyMeters) -> Gate:
        fallback = local(account, limits, keys)
        assert isinstance(fallback, LocalGate)
        return SharedGate(shared, account, limits, keys, fallback, window_ms)

    return make


def _queue(
    rel: Reliability,
    account: str,
    settings: Settings,
    keys: KeyMeters,
    make_gate: GateFactory,
) -> AccountQueue | None:
    """The account's queue (shared by its faces), or None when nothing limits it."""
    if account in rel.queues:
        return rel.queues[account]
    section = settings.reliability.limits
    configured = section.accounts.get(account)
    limits = account_limits(**configured.model_dump()) if configured else Limits()
    if not limits.any and not keys.limits.any:
        return None
    policy = QueuePolicy(
        max_wait=section.max_queue_wait,
        max_depth=section.max_queue_depth,
        default_max_tokens=section.default_max_tokens,
        chars_per_token=section.chars_per_token,
        release_grace=section.release_grace,
        counts_tokens=limits.counts_tokens or keys.limits.counts_tokens,
    )
    queue = AccountQueue(account, make_gate(account, limits, keys), policy, rel.stats)
    rel.queues[account] = queue
    return queue


def _chains(
    settings: Settings, upstreams: Mapping[str, Upstream]
) -> dict[str, tuple[tuple[str, str | None], ...]]:
    chains: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for requested, targets in settings.reliability.fallbacks.items():
        for target in targets:
            if target.upstream not in upstreams:
                known = ", ".join(upstreams) or "none"
                raise UpstreamConfigError(
                    f"reliability.fallbacks.{requested}: upstream {target.upstream!r} is not "
                    f"configured (known: {known})"
                )
        chains[requested] = tuple((t.upstream, t.model) for t in targets)
    return chains
