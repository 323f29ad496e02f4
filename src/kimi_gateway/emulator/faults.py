"""Fault injection by config: which rules hit this request, and what they do to it.

A rule matches by path prefix and exact model name, then hits every Nth matching request or
with a probability drawn from the state's seeded random.Random, so runs repeat exactly. Error
kinds answer before generation with Kimi's real errors (docs/kimi.md §2.2); the others shape the
reply: slow first byte, slow chunks, a cut or a content_filter error after some stream chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kimi_gateway.emulator import errors
from kimi_gateway.emulator.config import FaultRule
from kimi_gateway.emulator.errors import EmulatorError
from kimi_gateway.emulator.state import EmulatorState


@dataclass(frozen=True)
class FaultEffect:
    """What the hitting rules do to one request (the first error rule wins)."""

    error: EmulatorError | None = None
    delay_ms: int = 0
    chunk_delay_ms: int = 0
    cut_after: int | None = None  # drop the connection after this many stream chunks
    mid_error: EmulatorError | None = None  # content_filter after `mid_after` chunks
    mid_after: int = 0


def _rate_limit_error(state: EmulatorState, rule: FaultRule) -> EmulatorError:
    limits = state.config.limits
    rpm = limits.rpm or 3  # §3: the free tier's RPM when no limit is configured
    return errors.rate_limited(
        f"Your account {limits.uid}<{limits.ak_id}> request reached max request: {rpm}, "
        f"please try again after {rule.retry_after} seconds",
        rule.retry_after,
    )


def _error_for(state: EmulatorState, rule: FaultRule) -> EmulatorError | None:
    makers: dict[str, Callable[[], EmulatorError]] = {
        "engine_overloaded": lambda: errors.engine_overloaded(rule.retry_after),
        "rate_limit": lambda: _rate_limit_error(state, rule),
        "quota": lambda: errors.quota_exceeded(format(state.available_balance.normalize(), "f")),
        "server_error": errors.server_error,
        "server_unavailable": errors.server_unavailable,
        "gateway_timeout": errors.gateway_timeout,
        "payload_too_large": errors.request_too_large,
        "content_filter": errors.content_filter,
    }
    make = makers.get(rule.kind)
    return make() if make is not None else None


def _hits(state: EmulatorState, index: int, rule: FaultRule, path: str, model: str) -> bool:
    if rule.path is not None and not path.startswith(rule.path):
        return False
    if rule.model is not None and model != rule.model:
        return False
    with state.lock:
        count = state.fault_counters.get(index, 0) + 1
        state.fault_counters[index] = count
        if rule.every is not None:
            return count % rule.every == 0
        return state.random.random() < rule.probability


def draw_faults(
    state: EmulatorState, path: str, model: str, *, path_rules_only: bool = False
) -> FaultEffect:
    """Evaluate the configured rules against one request, in order.

    Generation endpoints evaluate every rule; other endpoints (files, models, balance…) pass
    `path_rules_only=True`, so only rules that name a path and no model apply to them.
    """
    error: EmulatorError | None = None
    delay = chunk_delay = mid_after = 0
    cut_after: int | None = None
    mid_error: EmulatorError | None = None
    for index, rule in enumerate(state.config.faults):
        if path_rules_only and (rule.path is None or rule.model is not None):
            continue
        if not _hits(state, index, rule, path, model):
            continue
        made = _error_for(state, rule)
        if made is not None:
            error = error or made
        elif rule.kind == "slow_first_byte":
            delay += rule.delay_ms
        elif rule.kind == "slow_chunks":
            chunk_delay += rule.delay_ms
        elif rule.kind == "cut":
            cut_after = rule.after_chunks
        elif rule.kind == "content_filter_mid":
            mid_error, mid_after = errors.content_filter(), rule.after_chunks
    return FaultEffect(error, delay, chunk_delay, cut_after, mid_error, mid_after)
